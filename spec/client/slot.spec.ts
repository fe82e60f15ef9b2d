import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bySlot, keySlot } from '../../src/client/slot'

const slot = suite('keySlot')

slot('matches CLUSTER KEYSLOT (values read from redis-server 7.0)', () => {
  assert.equal(['foo', 'hello', 'somekey', '123456789', '{}x'].map(keySlot), [12182, 866, 11058, 12739, 10595])
})

slot('a hash tag decides the slot; an empty tag does not', () => {
  assert.is(keySlot('{user1000}.following'), keySlot('{user1000}.followers'))
  assert.is(keySlot('{user1000}.following'), 3443)
  assert.is.not(keySlot('{}a'), keySlot('{}b'))
})

slot('bySlot keeps first-seen order, one slot per group, groups at most size long', () => {
  const keys = ['{a}1', '{b}1', '{a}2', '{a}3', '{b}2']
  assert.equal(
    bySlot(keys, (k) => k, 2),
    [['{a}1', '{a}2'], ['{b}1', '{b}2'], ['{a}3']]
  )
})

slot.run()
