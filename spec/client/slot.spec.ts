import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bySlot, keySlot, mGetBySlot } from '../../src/client/slot'

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

const mget = suite('mGetBySlot')

mget('one MGET per slot (at most size keys each), all at once, the values back in the order of the keys', async () => {
  const keys = Array.from({ length: 12 }, (_, i) => `k${i}`)
  const sent: Array<Array<string>> = []
  const values = await mGetBySlot(
    async (ks) => (sent.push(ks), ks.map((k) => (k === 'k3' ? null : `v:${k}`))),
    keys,
    'app:',
    2
  )
  assert.equal(
    values,
    keys.map((k) => (k === 'k3' ? null : `v:${k}`))
  )
  assert.equal(sent.flat().sort(), [...keys].sort())
  assert.ok(sent.every((g) => g.length <= 2 && new Set(g.map((k) => keySlot('app:' + k))).size === 1))
})

mget('a failing MGET (or one that throws) rejects', async () => {
  const boom = new Error('MOVED')
  const failed = await mGetBySlot(
    () => {
      throw boom
    },
    ['a'],
    ''
  ).then(
    () => undefined,
    (e: unknown) => e
  )
  assert.is(failed, boom)
})

mget.run()
