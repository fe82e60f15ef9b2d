// The expired filter and the setting check over hand-made notifications and a hand-driven clock; the whole path
// (subscription, store events) is in spec/express/expired-events.spec.ts and spec/integration/expired-events.spec.ts.
import * as O from 'fp-ts/lib/Option'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  makeExpiredFilter,
  notificationsProblem,
  REPORTED_FOR_MS,
  TOMBSTONE_SLACK_MS
} from '../../src/operations/expired-events'

const GRACE_MS = 300_000

const filterAt = (keyPrefix = 'app:sessions:') => {
  const clock = { t: 1_700_000_000_000 }
  const filter = makeExpiredFilter({ keyPrefix, graceMs: GRACE_MS, now: () => clock.t })
  return { clock, filter }
}

// --- makeExpiredFilter

const filter = suite('makeExpiredFilter')

filter('a session key expired: its session id, once', () => {
  const { filter: f } = filterAt()
  assert.equal(f.expiredSid('app:sessions:abc', 'expired'), O.some('abc'))
  assert.equal(f.expiredSid('app:sessions:abc', 'expired'), O.none, 'a second report is not a second expiry')
})

filter('a tombstone (hset) that expires: no event, and it is forgotten', () => {
  const { clock, filter: f } = filterAt()
  assert.equal(f.expiredSid('app:sessions:gone', 'hset'), O.none)
  assert.is(f.remembered(), 1)
  clock.t += GRACE_MS
  assert.equal(f.expiredSid('app:sessions:gone', 'expired'), O.none)
  assert.is(f.remembered(), 0)
})

filter('the same session id again, later, as a session: reported', () => {
  const { clock, filter: f } = filterAt()
  f.expiredSid('app:sessions:x', 'hset')
  f.expiredSid('app:sessions:x', 'expired')
  clock.t += REPORTED_FOR_MS + 1
  assert.equal(f.expiredSid('app:sessions:x', 'expired'), O.some('x'))
  clock.t += REPORTED_FOR_MS + 1
  assert.equal(f.expiredSid('app:sessions:x', 'expired'), O.some('x'), 'past the window, an expiry of its own')
})

filter('keys outside the prefix, the bare prefix and other events are nothing', () => {
  const { filter: f } = filterAt()
  for (const [key, event] of [
    ['other:abc', 'expired'],
    ['app:sessions:', 'expired'],
    ['sessions:abc', 'expired'],
    ['session-owners:u1', 'expired'],
    ['app:sessions:abc', 'del'],
    ['app:sessions:abc', 'expire'],
    ['app:sessions:abc', 'set']
  ] as const)
    assert.equal(f.expiredSid(key, event), O.none, `${key} ${event}`)
  assert.is(f.remembered(), 0, 'nothing remembered for them')
  assert.equal(f.expiredSid('app:sessions:abc', 'expired'), O.some('abc'))
})

filter('remembered tombstones are pruned once their grace and slack have passed', () => {
  const { clock, filter: f } = filterAt()
  for (let i = 0; i < 100; i++) f.expiredSid(`app:sessions:t${i}`, 'hset')
  clock.t += GRACE_MS / 2
  f.expiredSid('app:sessions:late', 'hset')
  assert.is(f.remembered(), 101)
  clock.t += GRACE_MS / 2 + TOMBSTONE_SLACK_MS + 1
  f.expiredSid('app:sessions:any', 'del')
  assert.is(f.remembered(), 1, 'the first 100 are gone, the later one is kept')
  // A tombstone whose expiry came after it was let go is reported as an expiry: the documented limit.
  assert.equal(f.expiredSid('app:sessions:t0', 'expired'), O.some('t0'))
})

filter('a tombstone written again is remembered from then on', () => {
  const { clock, filter: f } = filterAt()
  f.expiredSid('app:sessions:r', 'hset')
  clock.t += GRACE_MS
  f.expiredSid('app:sessions:r', 'hset')
  clock.t += GRACE_MS + 1
  f.expiredSid('app:sessions:any', 'del')
  assert.equal(f.expiredSid('app:sessions:r', 'expired'), O.none)
})

filter('reported expiries are pruned after their window', () => {
  const { clock, filter: f } = filterAt('')
  for (let i = 0; i < 50; i++) f.expiredSid(`s${i}`, 'expired')
  assert.is(f.remembered(), 50)
  clock.t += REPORTED_FOR_MS + 1
  f.expiredSid('s-last', 'expired')
  assert.is(f.remembered(), 1)
})

filter.run()

// ---

const problem = suite('notificationsProblem')

problem('K, h and x, in any order or through A: no problem', () => {
  for (const flags of ['hxK', 'Khx', 'AK', 'AKE', 'g$lshzxetdKE', 'hxKE'])
    assert.is(notificationsProblem(flags, 'n:1'), undefined, flags)
})

problem('the flags missing are named, and the setting to give keeps the others', () => {
  assert.match(notificationsProblem('', 'n:1') ?? '', 'notify-keyspace-events "", without K, h, x')
  assert.match(notificationsProblem('', 'n:1') ?? '', 'Set notify-keyspace-events Khx ')
  assert.match(notificationsProblem('xE', 'n:1') ?? '', 'Set notify-keyspace-events xEKh ')
  assert.match(notificationsProblem('AE', 'n:1') ?? '', 'without K:')
  assert.match(notificationsProblem('hxE', '127.0.0.1:7000') ?? '', 'Redis on 127.0.0.1:7000 ')
  assert.match(notificationsProblem('', 'n:1') ?? '', 'the store never changes it')
})

problem.run()
