import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import type { SessionData } from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeStoreOperations } from '../src/assemble'
import { baseOperations } from '../src/operations/base'
import { makeSaveBases, rememberingBases, withConcurrentSaves } from '../src/operations/concurrent-saves'
import { withDeadline } from '../src/operations/deadline'
import { observeDeps } from '../src/operations/observe'
import type { StoreOperations } from '../src/operations/model'
import type { SessionClient } from '../src/client/contract'
import { timedOut, walkFailed, type StoreError } from '../src/errors'
import { resolveOptions, type ResolvedOptions, type StoreOptions } from '../src/options'
import { GET_WITH_TTL_SCRIPT, TOMBSTONE_ONE_SCRIPT, TOMBSTONE_SCRIPT } from '../src/scripts'
import { makeFakeRedis, type FakeRedis } from './fakes/redis'
import { assertRight, runLeft, runRight, storedSession } from './helpers'

const HOUR = 3_600_000

/** The fake as a SessionClient whose readiness the spec sets, with the given key prefix. */
const clientOf = (redis: FakeRedis, keyPrefix = ''): { client: SessionClient; state: { ready: boolean } } => {
  const state = { ready: true }
  const client: SessionClient = {
    ...redis,
    _tag: 'SessionClient',
    keyPrefix,
    connection: { isReady: () => state.ready, isClosed: () => false, onChange: () => () => undefined },
    info: async () => ''
  }
  return { client, state }
}

const build = (redis: FakeRedis, options: StoreOptions = {}, keyPrefix = '') => {
  const { client, state } = clientOf(redis, keyPrefix)
  const reported: Array<StoreError> = []
  const ops = makeStoreOperations({
    ...assertRight(resolveOptions({ now: redis.now, ...options })),
    client,
    reportCorrupt: (e) => reported.push(e)
  })
  return { ops, state, reported }
}

const sess = (redis: FakeRedis, ms = HOUR, extra: Record<string, unknown> = {}) =>
  storedSession(redis.now(), ms, extra) as unknown as SessionData
const commands = (redis: FakeRedis) => redis.calls.map((c) => c[0])
const pending = <A>(p: Promise<A>, ms: number) =>
  Promise.race([p.then(() => 'answered'), new Promise((r) => setTimeout(() => r('pending'), ms))])
/** The fake with one command that never answers. */
const hanging = (redis: FakeRedis, command: 'get' | 'set' | 'getEx' | 'getDel' | 'evalSha' | 'scan'): FakeRedis => ({
  ...redis,
  [command]: () => new Promise(() => undefined)
})

// --- the record

const record = suite('makeStoreOperations')

record('builds every operation of a store', () => {
  const { ops } = build(makeFakeRedis())
  const names: ReadonlyArray<keyof StoreOperations> = [
    'get',
    'set',
    'touch',
    'destroy',
    'all',
    'ids',
    'length',
    'clear',
    'iterate',
    'sessionGet',
    'sessionTouch',
    'sessionsOf',
    'destroySessionsOf'
  ]
  assert.equal(Object.keys(ops).sort(), [...names].sort())
  for (const name of names) assert.type(ops[name], 'function', name)
})

record('the single-key operations use the options: prefix, clock, grace', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(redis, { prefix: 'app:', concurrencyGraceSeconds: 10 })
  assert.is(await runRight(ops.set('a', sess(redis, 5000))), 'written')
  assert.is(redis.keyspace.pttl('app:a'), 5000)
  assert.is(await runRight(ops.touch('a', sess(redis, 9000))), true)
  assert.is(redis.keyspace.pttl('app:a'), 9000)
  assert.ok(O.isSome(await runRight(ops.get('a'))))
  assert.is(await runRight(ops.destroy('a')), true)
  assert.is(redis.keyspace.pttl('app:a'), 10_000)
})

record('a corrupt value is reported: get with onCorrupt miss answers None, all skips it', async () => {
  const redis = makeFakeRedis({ 'sessions:bad': '{nope' })
  const { ops, reported } = build(redis)
  assert.equal(await runRight(ops.get('bad')), O.none)
  assert.equal(await runRight(ops.all()), {})
  assert.equal(
    reported.map((e) => e._tag),
    ['ParseFailed', 'ParseFailed']
  )
})

record('without ownerOf, sessionsOf and destroySessionsOf fail with NotConfigured naming the option', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(redis)
  assert.equal(await runLeft(ops.sessionsOf('alice')), {
    _tag: 'NotConfigured',
    operation: 'sessionsOf',
    option: 'ownerOf'
  })
  assert.equal(await runLeft(ops.destroySessionsOf('alice')), {
    _tag: 'NotConfigured',
    operation: 'destroySessionsOf',
    option: 'ownerOf'
  })
  assert.equal(redis.calls, [])
})

record.run()

// --- the hot path with default options

const hot = suite('makeStoreOperations: default options')

/** The fake, recording the JavaScript stack each command is sent from. */
const probing = (redis: FakeRedis) => {
  const stacks: Array<string> = []
  const at =
    <A extends ReadonlyArray<unknown>, R>(f: (...args: A) => R) =>
    (...args: A): R => {
      stacks.push(new Error().stack ?? '')
      return f(...args)
    }
  const client: FakeRedis = {
    ...redis,
    get: at(redis.get),
    set: at(redis.set),
    getEx: at(redis.getEx),
    evalSha: at(redis.evalSha)
  }
  return { client, stacks }
}

/** Runs each single-key operation once, express-session's pair included. */
async function runEach(ops: StoreOperations, redis: FakeRedis): Promise<void> {
  await runRight(ops.set('s', sess(redis)))
  await runRight(ops.get('s'))
  await runRight(ops.sessionGet('s'))
  await runRight(ops.touch('s', sess(redis)))
  await runRight(ops.sessionTouch('s', sess(redis)))
  await runRight(ops.destroy('s'))
}

/** `runEach`, and the frames of each command's stack above it. */
const sendEach = async (ops: StoreOperations, redis: FakeRedis, stacks: Array<string>) => {
  stacks.length = 0
  await runEach(ops, redis)
  return stacks.map((stack) => {
    const frames = stack.split('\n').slice(1)
    return frames.slice(
      0,
      frames.findIndex((f) => f.includes('runEach'))
    )
  })
}

hot('sends what it always sent: one command per single-key operation', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(redis)
  await runEach(ops, redis)
  assert.equal(
    redis.calls.map((c) => (c[0] === 'SET' || c[0] === 'GETEX' ? [c[0], c[1], c[c.length - 1]] : c.slice(0, 3))),
    [
      ['SET', 'sessions:s', { PX: HOUR, GET: true }],
      ['GET', 'sessions:s'],
      ['GET', 'sessions:s'],
      ['GETEX', 'sessions:s', { PX: HOUR }],
      ['GETEX', 'sessions:s', { PX: HOUR }],
      ['EVALSHA', TOMBSTONE_ONE_SCRIPT.sha1, ['sessions:s']]
    ]
  )
})

hot("express-session's get and touch are the record's get and touch: one function each", () => {
  const { ops } = build(makeFakeRedis())
  assert.is(ops.sessionGet, ops.get)
  assert.is(ops.sessionTouch, ops.touch)
  const { ops: lazy } = build(makeFakeRedis(), { touchAfterSeconds: 60 })
  assert.is.not(lazy.sessionGet, lazy.get, 'with lazy touch they differ (the check can fail)')
})

/**
 * The record every store has: the base over the observed dependencies (`observeDeps`: the client's GET, GETEX and
 * SET tell a trace what they saw; one frame each), `withConcurrentSaves` (on in every mode: a save that changed
 * nothing is a renewal, issue 17), and `withDeadline` over it. `withTracing` is always applied too, and puts no frame
 * on the path while the channel has no subscriber.
 */
const defaultRecord = (deps: ResolvedOptions, client: SessionClient) => {
  const bases = makeSaveBases()
  const observed = observeDeps({ ...deps, client })
  const base = baseOperations({ ...observed, serializer: rememberingBases(observed.serializer, bases) })
  return withConcurrentSaves({ concurrentSaves: deps.concurrentSaves, serializer: deps.serializer, bases })(base)
}

hot(
  'the record is the base with concurrent saves and the deadline over it, and no other wrapper on the path',
  async () => {
    Error.stackTraceLimit = 100
    const redis = makeFakeRedis()
    const deps = { ...assertRight(resolveOptions({ now: redis.now })) }
    const expected = probing(redis)
    const byHand = withDeadline(deps)(defaultRecord(deps, clientOf(expected.client).client))
    const wanted = await sendEach(byHand, redis, expected.stacks)
    const actual = probing(redis)
    const built = makeStoreOperations({ ...deps, ...clientOf(actual.client) })
    const frames = await sendEach(built, redis, actual.stacks)
    assert.is(frames.length, 6)
    assert.ok(frames.every((f) => f.length > 0))
    assert.equal(frames, wanted)
    // The check can fail: one decorator more on the path is one frame more.
    const guarded = probing(redis)
    const { ops: failing, state } = build(guarded.client, { whenDisconnected: 'fail' })
    state.ready = true
    const more = await sendEach(failing, redis, guarded.stacks)
    assert.ok(
      more.every((f, i) => f.length > (frames[i]?.length ?? 0)),
      JSON.stringify([more.map((f) => f.length), frames.map((f) => f.length)])
    )
  }
)

hot(
  'operationTimeoutMs 0 and defaults otherwise: the base record with concurrent saves, no other wrapper',
  async () => {
    const redis = makeFakeRedis()
    const deps = { ...assertRight(resolveOptions({ now: redis.now, operationTimeoutMs: 0 })) }
    const expected = probing(redis)
    const wanted = await sendEach(defaultRecord(deps, clientOf(expected.client).client), redis, expected.stacks)
    const actual = probing(redis)
    const built = makeStoreOperations({ ...deps, ...clientOf(actual.client) })
    assert.equal(await sendEach(built, redis, actual.stacks), wanted)
  }
)

hot.run()

// --- deadlines

const deadlines = suite('makeStoreOperations: deadlines')

const cases = [
  ['get', 'get', (ops: StoreOperations) => ops.get('s')],
  ['set', 'set', (ops: StoreOperations, redis: FakeRedis) => ops.set('s', sess(redis))],
  ['touch', 'getEx', (ops: StoreOperations, redis: FakeRedis) => ops.touch('s', sess(redis))],
  ['destroy', 'evalSha', (ops: StoreOperations) => ops.destroy('s')]
] as const

for (const [operation, command, call] of cases) {
  deadlines(`a hung ${operation} is a TimedOut naming ${operation} after operationTimeoutMs`, async () => {
    const redis = makeFakeRedis()
    const { ops } = build(hanging(redis, command), { operationTimeoutMs: 30 })
    const t0 = Date.now()
    assert.equal(await runLeft(call(ops, redis)), { _tag: 'TimedOut', operation, ms: 30 })
    assert.ok(Date.now() - t0 < 1000)
  })
}

deadlines('operationTimeoutMs 0: no deadline', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(hanging(redis, 'get'), { operationTimeoutMs: 0 })
  assert.is(await pending(ops.get('s')(), 60), 'pending')
})

deadlines('each page of a batched operation has the deadline: a hung SCAN is a WalkFailed of a TimedOut', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(hanging(redis, 'scan'), { operationTimeoutMs: 20 })
  for (const [operation, te] of [
    ['all', ops.all()],
    ['ids', ops.ids()],
    ['length', ops.length()],
    ['clear', ops.clear()]
  ] as ReadonlyArray<readonly [string, () => Promise<E.Either<StoreError, unknown>>]>) {
    assert.is(await pending(te(), 1000), 'answered', operation)
    assert.equal(await te(), E.left(walkFailed(operation, 0, 0, timedOut('SCAN', 20))), operation)
  }
  const stream = ops.iterate()[Symbol.asyncIterator]()
  assert.equal((await stream.next()).value, E.left(timedOut('SCAN', 20)))
})

deadlines('a hung tombstone script is a TimedOut naming EVALSHA', async () => {
  const redis = makeFakeRedis()
  redis.keyspace.set('sessions:a', { type: 'string', value: JSON.stringify(sess(redis)) })
  const { ops } = build(hanging(redis, 'evalSha'), { operationTimeoutMs: 20 })
  assert.equal(await ops.clear()(), E.left(walkFailed('clear', 0, 0, timedOut('EVALSHA', 20))))
})

deadlines('operationTimeoutMs 0: the batched operations have no deadline', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(hanging(redis, 'scan'), { operationTimeoutMs: 0 })
  assert.is(await pending(ops.length()(), 80), 'pending')
})

deadlines('an operation that answers in time is not cut', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(redis, { operationTimeoutMs: 1000 })
  assert.is(await runRight(ops.set('s', sess(redis))), 'written')
  assert.ok(O.isSome(await runRight(ops.get('s'))))
})

deadlines.run()

// --- whenDisconnected

const disconnected = suite('makeStoreOperations: whenDisconnected')

disconnected(
  "'fail': while the connection is not ready, each single-key operation is Unavailable and nothing is sent",
  async () => {
    const redis = makeFakeRedis()
    const { ops, state } = build(redis, { whenDisconnected: 'fail' })
    state.ready = false
    for (const [operation, te] of [
      ['get', ops.get('s')],
      ['set', ops.set('s', sess(redis))],
      ['touch', ops.touch('s', sess(redis))],
      ['destroy', ops.destroy('s')],
      ['get', ops.sessionGet('s')],
      ['touch', ops.sessionTouch('s', sess(redis))]
    ] as const) {
      const e = await runLeft(te)
      assert.is(e._tag, 'Unavailable', operation)
      assert.is((e as { operation: string }).operation, operation)
      assert.match((e as { reason: string }).reason, 'whenDisconnected is fail')
    }
    assert.equal(redis.calls, [])
  }
)

disconnected("'fail': the guard follows the connection from call to call", async () => {
  const redis = makeFakeRedis()
  const { ops, state } = build(redis, { whenDisconnected: 'fail' })
  assert.is(await runRight(ops.set('s', sess(redis))), 'written')
  state.ready = false
  assert.is((await runLeft(ops.get('s')))._tag, 'Unavailable')
  state.ready = true
  assert.ok(O.isSome(await runRight(ops.get('s'))))
})

disconnected("'fail' leaves the batched operations to the client", async () => {
  const redis = makeFakeRedis()
  const { ops, state } = build(redis, { whenDisconnected: 'fail' })
  state.ready = false
  assert.is(await runRight(ops.length()), 0)
  assert.equal(commands(redis), ['SCAN'])
})

for (const whenDisconnected of ['wait', 'bypass'] as const) {
  disconnected(`'${whenDisconnected}': a connection that is not ready does not stop the operations`, async () => {
    const redis = makeFakeRedis()
    const { ops, state } = build(redis, { whenDisconnected })
    state.ready = false
    assert.is(await runRight(ops.set('s', sess(redis))), 'written')
    assert.ok(O.isSome(await runRight(ops.get('s'))))
  })
}

disconnected("'fail' looks at the connection when the task runs, not when it is built", async () => {
  const redis = makeFakeRedis()
  const { ops, state } = build(redis, { whenDisconnected: 'fail' })
  const builtWhileUp = ops.get('a')
  state.ready = false
  assert.is((await runLeft(builtWhileUp))._tag, 'Unavailable')
  const builtWhileDown = ops.get('a')
  state.ready = true
  assert.ok(O.isNone(await runRight(builtWhileDown)), 'runs once the client is ready again')
})

disconnected.run()

// --- express-session's get and touch

const session = suite('makeStoreOperations: sessionGet / sessionTouch')

session('touchAfterSeconds 0: sessionGet is one GET and sessionTouch one GETEX', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(redis)
  await runRight(ops.set('s', sess(redis)))
  redis.calls.length = 0
  assert.ok(O.isSome(await runRight(ops.sessionGet('s'))))
  assert.is(await runRight(ops.sessionTouch('s', sess(redis))), true)
  assert.equal(commands(redis), ['GET', 'GETEX'])
})

session('touchAfterSeconds: sessionGet reads the TTL too, and a touch soon after writes nothing', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(redis, { touchAfterSeconds: 60 })
  await runRight(ops.set('s', sess(redis)))
  redis.calls.length = 0
  assert.ok(O.isSome(await runRight(ops.sessionGet('s'))))
  assert.equal(redis.calls, [['EVALSHA', GET_WITH_TTL_SCRIPT.sha1, ['sessions:s'], []]])
  redis.clock.advance(10_000)
  assert.is(await runRight(ops.sessionTouch('s', sess(redis))), false)
  assert.is(redis.calls.length, 1, 'the touch sent nothing')
  redis.clock.advance(60_000)
  assert.is(await runRight(ops.sessionTouch('s', sess(redis))), true)
  assert.equal(commands(redis), ['EVALSHA', 'GETEX'])
})

session('touchAfterSeconds: get and touch stay plain for direct use', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(redis, { touchAfterSeconds: 60 })
  await runRight(ops.set('s', sess(redis)))
  await runRight(ops.sessionGet('s'))
  redis.calls.length = 0
  assert.ok(O.isSome(await runRight(ops.get('s'))))
  assert.is(await runRight(ops.touch('s', sess(redis))), true)
  assert.equal(commands(redis), ['GET', 'GETEX'])
})

session('touchAfterSeconds: sessionGet and sessionTouch keep their deadlines', async () => {
  const redis = makeFakeRedis()
  const { ops } = build(hanging(hanging(redis, 'evalSha'), 'getEx'), { touchAfterSeconds: 60, operationTimeoutMs: 20 })
  assert.equal(await runLeft(ops.sessionGet('s')), { _tag: 'TimedOut', operation: 'get', ms: 20 })
  assert.equal(await runLeft(ops.sessionTouch('s', sess(redis))), { _tag: 'TimedOut', operation: 'touch', ms: 20 })
})

session('disableTouch: sessionTouch sends nothing and answers false; touch still renews', async () => {
  for (const touchAfterSeconds of [0, 60]) {
    const redis = makeFakeRedis()
    const { ops } = build(redis, { disableTouch: true, touchAfterSeconds })
    await runRight(ops.set('s', sess(redis, 5000)))
    redis.calls.length = 0
    assert.is(await runRight(ops.sessionTouch('s', sess(redis, HOUR))), false)
    assert.equal(redis.calls, [])
    assert.is(redis.keyspace.pttl('sessions:s'), 5000)
    assert.is(await runRight(ops.touch('s', sess(redis, HOUR))), true)
    assert.is(redis.keyspace.pttl('sessions:s'), HOUR)
  }
})

session(
  'disableTouch with touchAfterSeconds: express-session gets a plain GET (no TTL script, no memo) and a touch that sends nothing',
  async () => {
    const redis = makeFakeRedis()
    const { ops } = build(redis, { disableTouch: true, touchAfterSeconds: 60 })
    await runRight(ops.set('a', sess(redis)))
    redis.calls.length = 0
    await runRight(ops.sessionGet('a'))
    assert.is(await runRight(ops.sessionTouch('a', sess(redis))), false)
    assert.equal(commands(redis), ['GET'])
  }
)

session.run()

// --- batched operations

const batched = suite<{ redis: FakeRedis }>('makeStoreOperations: batched operations')
batched.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  for (const sid of ['a', 'b', 'c', 'd', 'e'])
    ctx.redis.keyspace.set(`sessions:${sid}`, {
      type: 'string',
      value: JSON.stringify(storedSession(ctx.redis.now(), HOUR, { sid }))
    })
  // Under the prefix, but no session id of the store's alphabet: a foreign key.
  ctx.redis.keyspace.set('sessions:cache:home', {
    type: 'string',
    value: JSON.stringify(storedSession(ctx.redis.now(), HOUR))
  })
})

batched(
  'strictSessionIds (default): keys whose rest is not a strict id are never listed, read or cleared',
  async ({ redis }) => {
    const { ops } = build(redis, { scanCount: 2 })
    assert.equal([...(await runRight(ops.ids()))].sort(), ['a', 'b', 'c', 'd', 'e'])
    assert.is(await runRight(ops.length()), 5)
    assert.equal(Object.keys(await runRight(ops.all())).sort(), ['a', 'b', 'c', 'd', 'e'])
    const iterated: Array<string> = []
    for await (const page of ops.iterate()) if (E.isRight(page)) iterated.push(...page.right.map(([sid]) => sid))
    assert.equal(iterated.sort(), ['a', 'b', 'c', 'd', 'e'])
    assert.ok(!redis.calls.some((c) => c.flat().includes('sessions:cache:home')), 'never read')
    assert.is(await runRight(ops.clear()), 5)
    assert.is(redis.keyspace.get('sessions:cache:home')?.type, 'string')
  }
)

batched('strictSessionIds false: any acceptable id is a session', async ({ redis }) => {
  const { ops } = build(redis, { strictSessionIds: false })
  assert.ok((await runRight(ops.ids())).includes('cache:home'))
  assert.is(await runRight(ops.length()), 6)
  assert.ok('cache:home' in (await runRight(ops.all())))
})

batched('scanCount is the batch size: one MGET / one tombstone script per scanCount keys', async ({ redis }) => {
  const { ops } = build(redis, { scanCount: 2 })
  await runRight(ops.all())
  const mgets = redis.calls.filter((c) => c[0] === 'MGET')
  assert.equal(
    mgets.map((c) => c.length - 1),
    [2, 2, 1]
  )
  redis.calls.length = 0
  await runRight(ops.clear())
  const scripts = redis.calls.filter((c) => c[0] === 'EVALSHA')
  assert.equal(
    scripts.map((c) => (c[2] as Array<string>).length),
    [2, 2, 1]
  )
  assert.ok(scripts.every((c) => c[1] === TOMBSTONE_SCRIPT.sha1))
})

batched('all keeps at most 4 batches in flight, and more than one', async ({ redis }) => {
  let outstanding = 0
  let most = 0
  const counting: FakeRedis = {
    ...redis,
    mGet: async (keys) => {
      most = Math.max(most, ++outstanding)
      await new Promise((r) => setTimeout(r, 2))
      outstanding--
      return redis.mGet(keys)
    }
  }
  const { ops } = build(counting, { scanCount: 1 })
  assert.equal(Object.keys(await runRight(ops.all())).sort(), ['a', 'b', 'c', 'd', 'e'])
  assert.is(most, 4)
})

batched('ids, length and clear scan strings only; all and iterate read values, without TYPE', async ({ redis }) => {
  const { ops } = build(redis)
  const scanOptions = async (run: () => Promise<unknown>) => {
    redis.calls.length = 0
    await run()
    return redis.calls.filter((c) => c[0] === 'SCAN').map((c) => c[2])
  }
  const typed = { MATCH: 'sessions:*', COUNT: 1000, TYPE: 'string' }
  const untyped = { MATCH: 'sessions:*', COUNT: 1000 }
  assert.equal(await scanOptions(ops.ids()), [typed])
  assert.equal(await scanOptions(ops.length()), [typed])
  assert.equal(await scanOptions(ops.all()), [untyped])
  assert.equal(
    await scanOptions(async () => {
      for await (const _ of ops.iterate());
    }),
    [untyped]
  )
  assert.equal(await scanOptions(ops.clear()), [typed])
})

batched('clear counts every key it deletes (its keys come from SCAN … TYPE string)', async ({ redis }) => {
  const { ops } = build(redis)
  await runRight(ops.clear())
  const script = redis.calls.find((c) => c[0] === 'EVALSHA')
  assert.is((script?.[3] as Array<string>)[2], '0')
})

batched("the client's keyPrefix is matched by SCAN and left out of the keys", async () => {
  const redis = makeFakeRedis()
  redis.keyspace.set('app:sessions:a', { type: 'string', value: JSON.stringify(storedSession(redis.now(), HOUR)) })
  redis.keyspace.set('sessions:b', { type: 'string', value: JSON.stringify(storedSession(redis.now(), HOUR)) })
  const { ops } = build(redis, {}, 'app:')
  assert.equal(await runRight(ops.ids()), ['a'])
  assert.equal((redis.calls[0]?.[2] as { MATCH: string }).MATCH, 'app:sessions:*')
})

batched.run()
