/**
 * The in-memory client (src/client/memory.ts) on its own: each command's answers and errors as Redis gives
 * them, expiry on the injectable clock, the scripts, SCAN paging and MATCH, keyPrefix, the connection
 * controls, fault injection, memory reclaimed, and the store built on it sharing its clock. Its equivalence
 * with a real redis-server is spec/property/memory-equivalence.spec.ts.
 */
import session from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createMemoryClient, type MemoryClient } from '../../src/memory'
import { globMatches } from '../../src/client/glob'
import { createRedisStore } from '../../src/express/create-redis-store'
import { GET_WITH_TTL_SCRIPT, TOMBSTONE_ONE_SCRIPT, TOMBSTONE_SCRIPT } from '../../src/scripts'
import type { ScanArgs } from '../../src/client/contract'

const T0 = 1_700_000_000_000
const fresh = (o: Parameters<typeof createMemoryClient>[0] = {}): MemoryClient =>
  createMemoryClient({ now: () => T0, ...o })

const rejection = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    (v) => assert.unreachable(`expected a rejection, got ${JSON.stringify(v)}`) as never,
    (e: unknown) => (e instanceof Error ? e.message : String(e))
  )

const walk = async (c: MemoryClient, args: ScanArgs): Promise<{ keys: Array<string>; calls: number }> => {
  const keys: Array<string> = []
  let cursor = '0'
  let calls = 0
  do {
    const reply = await c.scan(cursor, args)
    calls++
    keys.push(...reply.keys)
    cursor = reply.cursor
  } while (cursor !== '0')
  return { keys, calls }
}

// ---

const commands = suite('createMemoryClient: string commands')

commands('SET … PX … GET answers the previous value and sets the TTL; GET reads it', async () => {
  const c = fresh()
  assert.is(await c.set('a', 'v1', { PX: 1000, GET: true }), null)
  assert.is(await c.set('a', 'v2', { PX: 500, GET: true }), 'v1')
  assert.is(await c.get('a'), 'v2')
  assert.is(c.keyspace.pttl('a'), 500)
  assert.is(c.keyspace.pttl('nope'), -2)
})

commands('a key lives while now <= its expiry (Redis: expired when now > expiry), and is then gone', async () => {
  const c = fresh()
  await c.set('a', 'v', { PX: 100, GET: true })
  c.clock.advance(100)
  assert.is(await c.get('a'), 'v', 'at the exact expiry the key still exists (PTTL 0)')
  assert.is(c.keyspace.pttl('a'), 0)
  c.clock.advance(1)
  assert.is(await c.get('a'), null)
  assert.is(c.keyspace.size(), 0)
})

commands('PX must be a positive 64-bit integer, with the error texts of Redis', async () => {
  const c = fresh()
  assert.is(await rejection(c.set('a', 'v', { PX: 0, GET: true })), "ERR invalid expire time in 'set' command")
  assert.is(await rejection(c.set('a', 'v', { PX: -5, GET: true })), "ERR invalid expire time in 'set' command")
  assert.is(await rejection(c.set('a', 'v', { PX: 1.5, GET: true })), 'ERR value is not an integer or out of range')
  assert.is(await rejection(c.set('a', 'v', { PX: 1e20, GET: true })), 'ERR value is not an integer or out of range')
  assert.is(await rejection(c.getEx('a', { PX: 0 })), "ERR invalid expire time in 'getex' command", 'even on no key')
  assert.is(c.keyspace.size(), 0, 'nothing written')
})

commands('GETEX renews a string and never creates one; GETDEL reads and deletes', async () => {
  const c = fresh()
  assert.is(await c.getEx('a', { PX: 1000 }), null)
  assert.is(c.keyspace.get('a'), undefined)
  await c.set('a', 'v', { PX: 10, GET: true })
  assert.is(await c.getEx('a', { PX: 1000 }), 'v')
  assert.is(c.keyspace.pttl('a'), 1000)
  assert.is(await c.getDel('a'), 'v')
  assert.is(await c.getDel('a'), null)
  assert.is(c.keyspace.size(), 0)
})

commands('a tombstone (a hash) is WRONGTYPE for GET, SET, GETEX and GETDEL, and null for MGET', async () => {
  const c = fresh()
  c.keyspace.set('t', { type: 'hash', fields: { destroyedAt: '1' }, expiresAt: T0 + 50 })
  const wrong = 'WRONGTYPE Operation against a key holding the wrong kind of value'
  assert.is(await rejection(c.get('t')), wrong)
  assert.is(await rejection(c.set('t', 'v', { PX: 10, GET: true })), wrong)
  assert.is(await rejection(c.getEx('t', { PX: 10 })), wrong)
  assert.is(await rejection(c.getDel('t')), wrong)
  assert.equal(c.keyspace.get('t'), { type: 'hash', fields: { destroyedAt: '1' }, expiresAt: T0 + 50 }, 'untouched')
  await c.set('s', 'v', { PX: 10, GET: true })
  assert.equal(await c.mGet(['s', 't', 'missing']), ['v', null, null])
})

commands.run()

// ---

const scripts = suite('createMemoryClient: the store scripts')

scripts('EVALSHA of a script never loaded answers NOSCRIPT; EVAL runs it and loads it', async () => {
  const c = fresh()
  const args = { keys: ['a'], arguments: [] }
  assert.is(await rejection(c.evalSha(GET_WITH_TTL_SCRIPT.sha1, args)), 'NOSCRIPT No matching script. Please use EVAL.')
  assert.equal(await c.eval(GET_WITH_TTL_SCRIPT.source, args), [-2, null])
  assert.equal(await c.evalSha(GET_WITH_TTL_SCRIPT.sha1.toUpperCase(), args), [-2, null], 'the SHA in any case')
  c.faults.flushScripts()
  assert.match(await rejection(c.evalSha(GET_WITH_TTL_SCRIPT.sha1, args)), /^NOSCRIPT/)
})

scripts('an unknown script is refused: NOSCRIPT by SHA, an error naming the limitation by source', async () => {
  const c = fresh()
  const args = { keys: [], arguments: [] }
  assert.match(await rejection(c.evalSha('0'.repeat(40), args)), /^NOSCRIPT/)
  assert.match(await rejection(c.eval('return 1', args)), /runs only the store's own scripts/)
})

scripts(
  'GET_WITH_TTL: [pttl, value], [-1, value] without TTL, [-2, null] when missing, [-3] on a tombstone',
  async () => {
    const c = fresh()
    const run = (key: string) => c.eval(GET_WITH_TTL_SCRIPT.source, { keys: [key], arguments: [] })
    await c.set('a', 'v', { PX: 900, GET: true })
    c.keyspace.set('p', { type: 'string', value: 'w' })
    c.keyspace.set('t', { type: 'hash', fields: { destroyedAt: '1' } })
    assert.equal(await run('a'), [900, 'v'])
    assert.equal(await run('p'), [-1, 'w'])
    assert.equal(await run('x'), [-2, null])
    assert.equal(await run('t'), [-3])
  }
)

scripts('TOMBSTONE: counts live sessions (exact) or deleted keys, and leaves hashes living `grace` ms', async () => {
  const c = fresh()
  await c.set('a', 'v', { PX: 9000, GET: true })
  c.keyspace.set('t', { type: 'hash', fields: { destroyedAt: '1' }, expiresAt: T0 + 5 })
  const run = (keys: Array<string>, grace: string, exact: string) =>
    c.eval(TOMBSTONE_SCRIPT.source, { keys, arguments: [grace, '42', exact] })
  assert.is(await run(['a', 't', 'missing'], '300', '1'), 1, 'exact: only the live session counts')
  assert.equal(c.keyspace.get('a'), { type: 'hash', fields: { destroyedAt: '42' }, expiresAt: T0 + 300 })
  assert.equal(c.keyspace.get('missing'), { type: 'hash', fields: { destroyedAt: '42' }, expiresAt: T0 + 300 })
  assert.is(await run(['a', 't', 'zz'], '0', '0'), 2, 'not exact: every deleted key counts')
  assert.is(c.keyspace.size(), 1, 'grace 0 only deletes')
})

scripts('TOMBSTONE_ONE: 1 for a live session, 0 for a tombstone or nothing; a hash living `grace` ms', async () => {
  const c = fresh()
  await c.set('a', 'v', { PX: 9000, GET: true })
  c.keyspace.set('t', { type: 'hash', fields: { destroyedAt: '1' }, expiresAt: T0 + 5 })
  const run = (key: string, grace: string) =>
    c.eval(TOMBSTONE_ONE_SCRIPT.source, { keys: [key], arguments: [grace, '42'] })
  assert.is(await run('a', '300'), 1)
  assert.equal(c.keyspace.get('a'), { type: 'hash', fields: { destroyedAt: '42' }, expiresAt: T0 + 300 })
  assert.is(await run('t', '300'), 0, 'a tombstone is not a session')
  assert.equal(c.keyspace.get('t'), { type: 'hash', fields: { destroyedAt: '42' }, expiresAt: T0 + 300 })
  assert.is(await run('missing', '300'), 0)
  assert.is(c.keyspace.get('missing')?.type, 'hash')
  await c.set('b', 'v', { PX: 9000, GET: true })
  assert.is(await run('b', '0'), 1)
  assert.is(c.keyspace.get('b'), undefined, 'grace 0 only deletes')
})

scripts.run()

// ---

const scan = suite('createMemoryClient: SCAN')

scan('a walk returns every key once, about COUNT keys examined per call, MATCH and TYPE applied', async () => {
  const c = fresh()
  for (let i = 0; i < 50; i++) await c.set(`s:${i}`, 'v', { PX: 1000, GET: true })
  c.keyspace.set('s:dead', { type: 'hash', fields: { destroyedAt: '1' } })
  c.keyspace.set('other', { type: 'string', value: 'x' })
  const all = await walk(c, { MATCH: 's:*', COUNT: 7 })
  assert.equal([...all.keys].sort(), [...[...Array(50).keys()].map((i) => `s:${i}`), 's:dead'].sort())
  assert.ok(all.calls >= 52 / 7 && all.calls <= 53 / 7 + 2, `${all.calls} calls for 52 keys, COUNT 7`)
  const strings = await walk(c, { MATCH: 's:*', COUNT: 1000, TYPE: 'string' })
  assert.is(strings.keys.length, 50)
  assert.is(strings.calls, 1)
})

scan('a key present for the whole walk is returned even when others come and go meanwhile', async () => {
  const c = fresh()
  for (let i = 0; i < 40; i++) await c.set(`k${i}`, 'v', { PX: 1000, GET: true })
  const seen = new Set<string>()
  let cursor = '0'
  let n = 0
  do {
    const reply = await c.scan(cursor, { MATCH: 'k*', COUNT: 5 })
    reply.keys.forEach((k) => seen.add(k))
    cursor = reply.cursor
    await c.set(`new${n}`, 'v', { PX: 1000, GET: true })
    c.keyspace.delete(`k${39 - n}`) // deleted keys may or may not be seen
    n++
  } while (cursor !== '0')
  const stayed = [...Array(40 - n).keys()].map((i) => `k${i}`)
  assert.equal(
    stayed.filter((k) => !seen.has(k)),
    []
  )
})

scan('expired keys are not returned and are removed on the way', async () => {
  const c = fresh()
  await c.set('a', 'v', { PX: 10, GET: true })
  await c.set('b', 'v', { PX: 1000, GET: true })
  c.clock.advance(11)
  assert.equal((await walk(c, { MATCH: '*', COUNT: 10 })).keys, ['b'])
  assert.equal(c.keyspace.keys(), ['b'])
})

scan('MATCH * returns every key, the empty one too (Redis skips matching for a lone *)', async () => {
  const c = fresh()
  c.keyspace.set('', { type: 'string', value: 'v' })
  assert.equal((await walk(c, { MATCH: '*', COUNT: 10 })).keys, [''])
})

scan('an invalid cursor is an error, as in Redis', async () => {
  assert.is(await rejection(fresh().scan('x', { MATCH: '*', COUNT: 10 })), 'ERR invalid cursor')
})

scan.run()

// ---

const glob = suite("globMatches: Redis's stringmatchlen rules")

glob('*, ?, classes, negation, ranges in either order, escapes, unclosed brackets', () => {
  const cases: Array<readonly [string, string, boolean]> = [
    ['s:*', 's:abc', true],
    ['s:*', 's1:abc', false],
    ['*', '', false], // stringmatchlen's answer; SCAN and KEYS treat a lone * as "everything" before asking it
    ['s:*', 's:', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['?', 'é', false], // two bytes in UTF-8: ? takes one
    ['??', 'é', true],
    ['[abc]x', 'bx', true],
    ['[^abc]x', 'bx', false],
    ['[^abc]x', 'dx', true],
    ['[a-c]', 'b', true],
    ['[c-a]', 'b', true],
    ['[a-]', '-', false], // 'a-]' is no range: the class is 'a', '-' ... then ']' closes at once
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['[\\]]', ']', true],
    ['s\\[1\\]', 's[1]', true],
    ['[abc', 'b', true], // an unclosed bracket runs to the end of the pattern
    ['[abc', 'd', false],
    ['a\\', 'a\\', true]
  ]
  for (const [pattern, key, expected] of cases)
    assert.is(globMatches(pattern, key), expected, `${pattern} vs ${JSON.stringify(key)}`)
})

glob.run()

// ---

const connection = suite('createMemoryClient: connection and faults')

connection('onChange returns what removes the listener', () => {
  const c = fresh()
  const heard: Array<string> = []
  const stop = c.connection.onChange((s) => heard.push(s))
  c.connection.down()
  stop()
  c.connection.up()
  assert.equal(heard, ['down'])
})

connection('down queues commands until up; listeners hear down and ready; close refuses everything', async () => {
  const c = fresh()
  const heard: Array<string> = []
  c.connection.onChange((s) => heard.push(s))
  c.connection.down()
  assert.is(c.connection.isReady(), false)
  const pending = c.set('a', 'v', { PX: 1000, GET: true })
  assert.is(c.keyspace.get('a'), undefined, 'not run while down')
  c.connection.up()
  assert.is(await pending, null)
  assert.is(c.keyspace.get('a')?.type, 'string')
  c.connection.down()
  const refused = c.get('a')
  c.connection.close()
  assert.is(await rejection(refused), 'The client is closed')
  assert.is(await rejection(c.get('a')), 'The client is closed')
  assert.equal([heard, c.connection.isClosed(), c.connection.isReady()], [['down', 'ready', 'down'], true, false])
})

connection('offlineQueue false: commands are refused while down', async () => {
  const c = fresh({ connected: false, offlineQueue: false })
  assert.match(await rejection(c.get('a')), /offline/)
  c.connection.up()
  assert.is(await c.get('a'), null)
})

connection('fail: n times or until clear, with the given error, and the keys untouched', async () => {
  const c = fresh()
  c.faults.fail('SET', { times: 1 })
  assert.match(await rejection(c.set('a', 'v', { PX: 10, GET: true })), /^ERR SET failed/)
  assert.is(await c.set('a', 'v', { PX: 10, GET: true }), null, 'the second SET goes through')
  c.faults.fail('GET', { error: new Error('READONLY You cannot write against a read only replica.') })
  assert.match(await rejection(c.get('a')), /READONLY/)
  assert.match(await rejection(c.get('a')), /READONLY/)
  c.faults.clear()
  assert.is(await c.get('a'), 'v')
})

connection('hang: no answer until release, then the calls run in order', async () => {
  const c = fresh()
  const release = c.faults.hang('SET')
  let done = false
  const first = c.set('a', '1', { PX: 10, GET: true }).then((r) => ((done = true), r))
  const second = c.set('a', '2', { PX: 10, GET: true })
  assert.is(await c.get('a'), null, 'other commands still answer')
  await new Promise((r) => setTimeout(r, 5))
  assert.is(done, false)
  release()
  assert.equal([await first, await second, await c.get('a')], [null, '1', '2'])
})

connection('keyPrefix: every command adds it, SCAN returns it and does not add it to MATCH', async () => {
  const c = fresh({ keyPrefix: 'kp:' })
  await c.set('s:a', 'v', { PX: 10, GET: true })
  assert.equal(c.keyspace.keys(), ['kp:s:a'])
  assert.equal(await c.mGet(['s:a']), ['v'])
  assert.equal((await walk(c, { MATCH: 's:*', COUNT: 10 })).keys, [])
  assert.equal((await walk(c, { MATCH: 'kp:s:*', COUNT: 10 })).keys, ['kp:s:a'])
  await c.eval(TOMBSTONE_SCRIPT.source, { keys: ['s:a'], arguments: ['100', '1', '1'] })
  assert.is(c.keyspace.get('kp:s:a')?.type, 'hash')
})

connection('INFO reports the eviction policy; WAIT the configured replicas', async () => {
  assert.match(await fresh().info('memory'), /maxmemory_policy:noeviction/)
  const c = fresh({ maxmemoryPolicy: 'allkeys-lru', replicas: 2 })
  assert.match(await c.info('memory'), /maxmemory_policy:allkeys-lru/)
  assert.is(await c.waitReplicas('k', 1, 10), 2)
})

connection('expired keys are reclaimed by writes even when nothing reads or scans them', async () => {
  const c = fresh()
  for (let i = 0; i < 200; i++) await c.set(`old${i}`, 'v', { PX: 10, GET: true })
  c.clock.advance(11)
  for (let i = 0; i < 100; i++) await c.set(`new${i}`, 'v', { PX: 10_000, GET: true })
  assert.is(c.keyspace.held(), 100, 'every expired key was reclaimed: 4 keys are examined per write')
  c.clock.advance(10_001)
  assert.is(c.keyspace.held(), 100, 'expired but not yet reclaimed: held, not counted')
  assert.is(c.keyspace.size(), 0)
  assert.is(c.keyspace.held(), 0, 'size() reclaimed them')
})

connection.run()

// ---

const store = suite('createRedisStore(createMemoryClient())')

store(
  "is a store; its TTLs are computed on its own clock (Date.now by default), the keys expire on the client's",
  async () => {
    const c = createMemoryClient({ now: () => T0 })
    const s = createRedisStore(c, { prefix: 'p:' })
    assert.ok(s instanceof session.Store)
    // express-session sets cookie.expires on the real clock: by default the store's TTL arithmetic uses it too.
    const real = { originalMaxAge: 5000, expires: new Date(Date.now() + 5000) }
    await s.access.set('r', { cookie: real } as never)
    const pttl = c.keyspace.pttl('p:r')
    assert.ok(pttl > 4000 && pttl <= 5000, `TTL from Date.now, not from the client's clock (got ${pttl})`)
    c.clock.advance(5001)
    assert.is(await s.access.get('r'), null, "the key expires on the client's clock")
    // A test that builds cookie.expires from the client's clock gives the store that clock.
    const shared = createRedisStore(c, { prefix: 'q:', now: c.clock.now })
    const cookie = { originalMaxAge: 1000, expires: new Date(c.clock.now() + 1000) }
    await shared.access.set('a', { cookie } as never)
    assert.is(c.keyspace.pttl('q:a'), 1000, 'with now: client.clock.now, the TTL is computed on the client clock')
    c.clock.advance(1000)
    assert.ok((await shared.access.get('a')) !== null)
    c.clock.advance(1)
    assert.is(await shared.access.get('a'), null)
  }
)

store('whenDisconnected: fail refuses at once while down, wait runs once up', async () => {
  const c = createMemoryClient({ now: () => T0 })
  const failing = createRedisStore(c, { whenDisconnected: 'fail' })
  const waiting = createRedisStore(c)
  c.connection.down()
  assert.match(await rejection(failing.access.get('a')), /not connected/)
  const later = waiting.access.get('a')
  c.connection.up()
  assert.is(await later, null)
})

store.run()
