import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ScriptArgs } from '../../src/client/contract'
import { makeTombstone } from '../../src/operations/tombstone'
import { keySlot } from '../../src/client/slot'
import { NODE_TOMBSTONE_SCRIPT, TOMBSTONE_SCRIPT } from '../../src/scripts'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runLeft, runRight } from '../helpers'

const tombstoneOf = (redis: FakeRedis, concurrencyGraceSeconds = 300, countLiveOnly?: boolean) =>
  makeTombstone({
    client: redis,
    concurrencyGraceSeconds,
    now: redis.now,
    ...(countLiveOnly === undefined ? {} : { countLiveOnly })
  })

const live = (redis: FakeRedis, key: string) => redis.keyspace.set(key, { type: 'string', value: '{"cookie":{}}' })

const tombstone = suite<{ redis: FakeRedis }>('makeTombstone')
tombstone.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

tombstone('one script call for the whole batch: keys, grace in ms, now, and the live-only flag', async ({ redis }) => {
  live(redis, 's:a')
  live(redis, 's:b')
  assert.is(await runRight(tombstoneOf(redis)(['s:a', 's:b', 's:c'])), 2)
  assert.equal(redis.calls, [
    ['EVALSHA', TOMBSTONE_SCRIPT.sha1, ['s:a', 's:b', 's:c'], ['300000', String(redis.now()), '1']]
  ])
  for (const key of ['s:a', 's:b', 's:c']) {
    assert.equal(
      redis.keyspace.get(key),
      { type: 'hash', fields: { destroyedAt: String(redis.now()) }, expiresAt: redis.now() + 300_000 },
      key
    )
  }
})

tombstone('counts live sessions only by default: a tombstone or a missing key is not a session', async ({ redis }) => {
  live(redis, 's:live')
  redis.keyspace.set('s:dead', { type: 'hash', fields: { destroyedAt: '1' } })
  assert.is(await runRight(tombstoneOf(redis)(['s:live', 's:dead', 's:missing'])), 1)
})

tombstone('with countLiveOnly false, every deleted key counts (the flag is 0)', async ({ redis }) => {
  live(redis, 's:live')
  redis.keyspace.set('s:dead', { type: 'hash', fields: { destroyedAt: '1' } })
  assert.is(await runRight(tombstoneOf(redis, 300, false)(['s:live', 's:dead', 's:missing'])), 2)
  assert.is((redis.calls[0]?.[3] as Array<string>)[2], '0')
})

tombstone('grace 0 only deletes: no tombstone is left', async ({ redis }) => {
  live(redis, 's:a')
  assert.is(await runRight(tombstoneOf(redis, 0)(['s:a'])), 1)
  assert.is((redis.calls[0]?.[3] as Array<string>)[0], '0')
  assert.is(redis.keyspace.size(), 0)
})

tombstone('a fractional grace is sent as whole milliseconds', async ({ redis }) => {
  await runRight(tombstoneOf(redis, 1.5)(['s:a']))
  await runRight(tombstoneOf(redis, 0.0004)(['s:b']))
  assert.equal(
    redis.calls.map((c) => (c[3] as Array<string>)[0]),
    ['1500', '0']
  )
  assert.is(redis.keyspace.pttl('s:a'), 1500)
  assert.is(redis.keyspace.get('s:b') !== undefined, false)
})

tombstone('"now" is read for each batch, not once when the operation is built', async ({ redis }) => {
  const run = tombstoneOf(redis)
  redis.clock.advance(5000)
  await runRight(run(['s:a']))
  redis.clock.advance(7000)
  await runRight(run(['s:b']))
  assert.equal(
    redis.calls.map((c) => (c[3] as Array<string>)[1]),
    [String(redis.now() - 7000), String(redis.now())]
  )
})

tombstone('an empty batch sends nothing and removed nothing', async ({ redis }) => {
  assert.is(await runRight(tombstoneOf(redis)([])), 0)
  assert.equal(redis.calls, [])
})

tombstone('the script reply is a count even when the client answers a string', async () => {
  const sent: Array<ScriptArgs> = []
  const client = {
    evalSha: async (_sha1: string, args: ScriptArgs) => {
      sent.push(args)
      return '3'
    },
    eval: async () => assert.unreachable('no NOSCRIPT here') as never
  }
  assert.is(await runRight(makeTombstone({ client, concurrencyGraceSeconds: 1, now: () => 42 })(['a', 'b', 'c'])), 3)
  assert.equal(sent, [{ keys: ['a', 'b', 'c'], arguments: ['1000', '42', '1'] }])
})

tombstone('the keys are copied: the caller may reuse its array', async ({ redis }) => {
  const keys = ['s:a']
  const task = tombstoneOf(redis)(keys)
  keys.push('s:b')
  await runRight(task)
  assert.equal(redis.calls[0]?.[2], ['s:a'])
})

tombstone('a failing script is a CommandFailed naming EVALSHA and the first key', async ({ redis }) => {
  const oom = new Error('OOM command not allowed')
  redis.faults.fail('EVALSHA', { error: oom })
  assert.equal(await runLeft(tombstoneOf(redis)(['s:a', 's:b'])), {
    _tag: 'CommandFailed',
    command: 'EVALSHA',
    key: 's:a',
    cause: oom
  })
})

tombstone('a reply that is not a count is a CommandFailed, never a NaN passed on', async ({ redis }) => {
  const odd = { ...redis, evalSha: async () => 'OK' }
  const e = await runLeft(makeTombstone({ client: odd, concurrencyGraceSeconds: 300, now: redis.now })(['s:a']))
  assert.is(e._tag, 'CommandFailed')
  assert.match(String((e as { cause: Error }).cause.message), /unexpected reply to EVALSHA: string OK, not a count/)
  // An object that cannot become a number or a string ({ toString: false }) is read without a throw.
  const hostile = { ...redis, evalSha: async () => ({ toString: false }) }
  const h = await runLeft(makeTombstone({ client: hostile, concurrencyGraceSeconds: 300, now: redis.now })(['s:a']))
  assert.match(String((h as { cause: Error }).cause.message), /unexpected reply to EVALSHA: an object, not a count/)
})

tombstone(
  'with confirm: answers once enough replicas hold the tombstone (WAIT on the first key), else NotReplicated',
  async ({ redis }) => {
    const asked: Array<readonly [string, number, number]> = []
    const replicas = (n: number) => async (key: string, r: number, ms: number) => (asked.push([key, r, ms]), n)
    const deps = { client: redis, concurrencyGraceSeconds: 300, now: redis.now }
    live(redis, 's:a')
    const ok = makeTombstone({ ...deps, confirm: { replicas: 1, timeoutMs: 250, wait: replicas(1) } })
    assert.is(await runRight(ok(['s:a'])), 1)
    assert.equal(asked, [['s:a', 1, 250]])
    live(redis, 's:b')
    const short = makeTombstone({ ...deps, confirm: { replicas: 2, timeoutMs: 250, wait: replicas(1) } })
    const e = await runLeft(short(['s:b']))
    assert.equal(e, { _tag: 'NotReplicated', key: 's:b', acknowledged: 1, required: 2, timeoutMs: 250 })
    assert.is(redis.keyspace.get('s:b')?.type, 'hash', 'the primary holds the tombstone all the same')
    const broken = makeTombstone({
      ...deps,
      confirm: { replicas: 1, timeoutMs: 250, wait: () => Promise.reject(new Error('NOPERM wait')) }
    })
    assert.is((await runLeft(broken(['s:c'])))._tag, 'CommandFailed')
  }
)

const across = suite<{ redis: FakeRedis }>("makeTombstone acrossSlots (a cluster master's batch)")
across.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

/** The fake, with the node script answering `error` (the fake knows no slots). */
const refusingNodeScript = (redis: FakeRedis, error: Error) => ({
  ...redis,
  evalSha: (sha1: string, args: ScriptArgs) =>
    sha1 === NODE_TOMBSTONE_SCRIPT.sha1
      ? (redis.calls.push(['EVALSHA', sha1, args.keys, args.arguments]), Promise.reject(error))
      : redis.evalSha(sha1, args)
})

across(
  'one script call for keys of many slots: keys as arguments behind the prefix, routed by the first',
  async ({ redis }) => {
    const keys = ['s:a', 's:b', 's:c']
    assert.ok(new Set(keys.map((k) => keySlot('p:' + k))).size > 1)
    for (const k of keys.slice(0, 2)) live(redis, 'p:' + k)
    const run = makeTombstone({
      client: redis,
      concurrencyGraceSeconds: 300,
      now: redis.now,
      acrossSlots: { keyPrefix: 'p:' }
    })
    assert.is(await runRight(run(keys)), 2)
    assert.equal(redis.calls, [
      ['EVALSHA', NODE_TOMBSTONE_SCRIPT.sha1, ['s:a'], ['300000', String(redis.now()), '1', 'p:s:a', 'p:s:b', 'p:s:c']]
    ])
    for (const k of keys) assert.is(redis.keyspace.get('p:' + k)?.type, 'hash', `${k} is a tombstone`)
  }
)

across('a key its node no longer serves: done again slot by slot, counted once, WAIT per call', async ({ redis }) => {
  const keys = Array.from({ length: 10 }, (_, i) => `s:k${i}`)
  for (const k of keys.slice(0, 7)) live(redis, k)
  const moved = new Error('ERR Script attempted to access a non local key in a cluster node')
  const waited: Array<string> = []
  const run = makeTombstone({
    client: refusingNodeScript(redis, moved),
    concurrencyGraceSeconds: 300,
    now: redis.now,
    acrossSlots: { keyPrefix: '' },
    confirm: { replicas: 1, timeoutMs: 100, wait: async (key) => (waited.push(key), 1) }
  })
  assert.is(await runRight(run(keys)), 7)
  const perSlot = redis.calls.filter((c) => c[1] === TOMBSTONE_SCRIPT.sha1).map((c) => c[2] as Array<string>)
  assert.equal(perSlot.flat().sort(), [...keys].sort(), 'every key once')
  assert.ok(
    perSlot.every((group) => new Set(group.map(keySlot)).size === 1),
    'each call of one slot'
  )
  assert.equal(
    waited,
    perSlot.map((group) => group[0]),
    'WAIT on the node of each call'
  )
  for (const k of keys) assert.is(redis.keyspace.get(k)?.type, 'hash')
})

across(
  'a server that refuses undeclared keys: slot by slot with declared keys, the same count, from then on',
  async ({ redis }) => {
    const keys = Array.from({ length: 10 }, (_, i) => `s:k${i}`)
    const refusal = new Error('ERR Error running script: script tried accessing undeclared key, key: s:k0')
    const run = makeTombstone({
      client: refusingNodeScript(redis, refusal),
      concurrencyGraceSeconds: 300,
      now: redis.now,
      acrossSlots: { keyPrefix: '' }
    })
    for (const k of keys.slice(0, 7)) live(redis, k)
    assert.is(await runRight(run(keys)), 7)
    for (const k of keys) assert.is(redis.keyspace.get(k)?.type, 'hash', `${k} is a tombstone`)
    for (const k of keys.slice(0, 3)) live(redis, k)
    assert.is(await runRight(run(keys)), 3)
    assert.is(redis.calls.filter((c) => c[1] === NODE_TOMBSTONE_SCRIPT.sha1).length, 1, 'the node script is tried once')
    const perSlot = redis.calls.filter((c) => c[1] === TOMBSTONE_SCRIPT.sha1).map((c) => c[2] as Array<string>)
    assert.is(perSlot.flat().length, 2 * keys.length, 'every key declared, twice')
    assert.ok(
      perSlot.every((group) => new Set(group.map(keySlot)).size === 1),
      'each call of one slot'
    )
  }
)

across('any other failure is not retried (the script may have written): it is the result', async ({ redis }) => {
  const oom = new Error('OOM command not allowed when used memory > maxmemory')
  live(redis, 's:a')
  const run = makeTombstone({
    client: refusingNodeScript(redis, oom),
    concurrencyGraceSeconds: 300,
    now: redis.now,
    acrossSlots: { keyPrefix: '' }
  })
  const e = await runLeft(run(['s:a', 's:b']))
  assert.equal(e, { _tag: 'CommandFailed', command: 'EVALSHA', key: 's:a', cause: oom })
  assert.is(redis.calls.length, 1)
})

across(
  'acrossNodes (the sessions of one owner): one call per slot at once, no attempt on one node',
  async ({ redis }) => {
    const keys = Array.from({ length: 10 }, (_, i) => `s:k${i}`)
    for (const k of keys.slice(0, 4)) live(redis, k)
    const run = makeTombstone({
      client: redis,
      concurrencyGraceSeconds: 300,
      now: redis.now,
      acrossSlots: { keyPrefix: '', acrossNodes: true }
    })
    assert.is(await runRight(run(keys)), 4)
    assert.ok(
      redis.calls.every((c) => c[1] === TOMBSTONE_SCRIPT.sha1),
      'never the node script'
    )
    const perSlot = redis.calls.map((c) => c[2] as Array<string>)
    assert.equal(perSlot.flat().sort(), [...keys].sort())
    assert.ok(perSlot.every((group) => new Set(group.map(keySlot)).size === 1))
    assert.is(await runRight(run([])), 0)
  }
)

tombstone.run()
across.run()
