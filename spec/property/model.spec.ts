/**
 * Property 3: model-based test (fc.commands) of get / set / touch / destroy / length / all / ids / clear /
 * advance-time sequences against a simple model with tombstones:
 *
 *   Map sid → { kind: 'live', value, expiresAt } | { kind: 'tomb', expiresAt }
 *
 * After every command the store's answer must match the model (get → session or null; set → 'written' /
 * 'tombstoned' / 'expired'; touch and destroy → true / false; length / all / ids → the live entries), and so
 * must what Redis holds for every session of the pool: its type (string / hash / none) and its TTL.
 *
 * Two systems run the same commands:
 *
 * - the in-memory client (createMemoryClient, via spec/fakes/redis.ts; Redis's expiry rule now > expiresAt), NUM_RUNS (≥ 1000) sequences: its clock advances instantly, so
 *   TTLs and advances are any number of ms, and `advance to expiry ± 1 ms` commands hit the exact boundaries;
 * - a real redis-server, REAL_RUNS sequences. Redis TTLs are real time, so "advance time" is simulated: the
 *   store runs on a virtual clock and an admin script lowers every session key's PTTL by the advance (and
 *   deletes the key when it reaches 0). TTLs and advances are whole seconds there, so the few ms of real
 *   time a sequence takes never cross a boundary.
 */
import type { SessionData } from 'express-session'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, type RedisSessionStore } from '../../src/express/create-redis-store'
import { makeFakeRedis } from '../fakes/redis'
import {
  asReadBack,
  checkProperty,
  jsonShape,
  NUM_RUNS,
  show,
  startRealRedis,
  withoutPrototypeKeys,
  type RealRedis
} from './support'

/** Sequences against the real redis-server. */
const REAL_RUNS = NUM_RUNS

const PREFIX = 'm:'
const GRACE_MS = 4_000
const TTL_FALLBACK_MS = 7_000
const SIDS = ['a', 'b', 'c'] as const
type Sid = (typeof SIDS)[number]

// --- the model

type Entry =
  | { readonly kind: 'live'; readonly value: unknown; expiresAt: number }
  | { readonly kind: 'tomb'; readonly expiresAt: number }

interface Model {
  now: number
  readonly entries: Map<Sid, Entry>
  /**
   * Whether an entry is gone at `now`. Redis's rule is `now > expiresAt` (a key lives through the ms of its
   * expiry, with PTTL 0); the simulated time on the real server cannot hold a key at PTTL 0, so there it is
   * `now >= expiresAt` (whole seconds: the real runs check no sub-second boundary anyway).
   */
  readonly gone: (expiresAt: number, now: number) => boolean
}

/** The entry of `sid` at the model's time: expired entries are gone (see `Model.gone`). */
const entryOf = (m: Model, sid: Sid): Entry | undefined => {
  const e = m.entries.get(sid)
  if (e !== undefined && m.gone(e.expiresAt, m.now)) {
    m.entries.delete(sid)
    return undefined
  }
  return e
}
const liveOf = (m: Model, sid: Sid) => {
  const e = entryOf(m, sid)
  return e?.kind === 'live' ? e : undefined
}
const liveSids = (m: Model): Array<Sid> => SIDS.filter((s) => liveOf(m, s) !== undefined)
const tombstone = (m: Model, sid: Sid): void => {
  m.entries.set(sid, { kind: 'tomb', expiresAt: m.now + GRACE_MS })
}

// --- the systems

interface System {
  readonly name: string
  readonly store: RedisSessionStore
  readonly now: () => number
  readonly advance: (ms: number) => Promise<void>
  /** Type and PTTL of each pool session's key, as Redis (or the fake) holds it. */
  readonly inspect: () => Promise<ReadonlyArray<readonly [string, number]>>
  /** How far below the model's remaining TTL the real one may be (real time elapsed). */
  readonly ttlSlack: number
}

const storeOptions = {
  prefix: PREFIX,
  concurrencyGraceSeconds: GRACE_MS / 1000,
  ttlSeconds: TTL_FALLBACK_MS / 1000,
  checkEvictionPolicy: false
} as const

const fakeSystem = (): System => {
  const fake = makeFakeRedis()
  return {
    name: 'fake',
    store: createRedisStore(fake, { ...storeOptions, now: fake.now }),
    now: fake.now,
    advance: async (ms) => fake.clock.advance(ms),
    inspect: async () =>
      SIDS.map((sid) => {
        const key = PREFIX + sid
        const pttl = fake.keyspace.pttl(key) // also drops the key when it has expired
        const type = fake.keyspace.get(key)?.type ?? 'none'
        return [type, pttl] as const
      }),
    ttlSlack: 0
  }
}

/**
 * Lowers the PTTL of every key under the prefix by ARGV[1] ms, deleting those that reach 0: what the
 * passing of that much time would do. Returns how many keys had no TTL at all (the store never writes one).
 */
const ADVANCE_SCRIPT = `local d = tonumber(ARGV[1])
local immortal = 0
for _, k in ipairs(redis.call('KEYS', ARGV[2])) do
  local t = redis.call('PTTL', k)
  if t == -1 then immortal = immortal + 1
  elseif t > 0 then
    if t - d <= 0 then redis.call('DEL', k) else redis.call('PEXPIRE', k, t - d) end
  end
end
return immortal`

const realSystem = (redis: RealRedis): System => {
  let clock = Date.now()
  return {
    name: 'real Redis',
    store: createRedisStore(redis.client, { ...storeOptions, now: () => clock }),
    now: () => clock,
    advance: async (ms) => {
      clock += ms
      const immortal = await redis.raw('EVAL', ADVANCE_SCRIPT, '0', String(ms), PREFIX + '*')
      assert.is(Number(immortal), 0, 'every key the store writes has a TTL')
    },
    inspect: async () =>
      Promise.all(
        SIDS.map(async (sid) => {
          const [type, pttl] = await Promise.all([redis.raw('TYPE', PREFIX + sid), redis.raw('PTTL', PREFIX + sid)])
          return [String(type), Number(pttl)] as const
        })
      ),
    ttlSlack: 900
  }
}

/** Redis (or the fake) holds what the model says: for each pool session, its key's type and TTL. */
const checkStorage = async (m: Model, r: System, after: string): Promise<void> => {
  const held = await r.inspect()
  for (const [i, sid] of SIDS.entries()) {
    const [type, pttl] = held[i] as readonly [string, number]
    const e = entryOf(m, sid)
    const expected = e === undefined ? 'none' : e.kind === 'live' ? 'string' : 'hash'
    assert.is(type, expected, `${r.name}: key of ${sid} after ${after}`)
    if (e === undefined) continue
    const remaining = e.expiresAt - m.now
    assert.ok(
      pttl <= remaining && pttl > remaining - r.ttlSlack - 1,
      `${r.name}: PTTL of ${sid} is ${pttl}, the model says ${remaining}, after ${after}`
    )
  }
}

// --- commands

type Cmd = fc.AsyncCommand<Model, System>

/** What the run exercised, printed after each property: answers by command. */
const seen = new Map<string, number>()
const tally = (what: string): void => {
  seen.set(what, (seen.get(what) ?? 0) + 1)
}

const command = (name: string, run: (m: Model, r: System) => Promise<void>): Cmd => ({
  check: () => true,
  run: async (m, r) => {
    await run(m, r)
    await checkStorage(m, r, name)
  },
  toString: () => name
})

const cookieOf = (now: number, ttl: number | null) => ({
  originalMaxAge: ttl,
  expires: ttl === null ? null : new Date(now + ttl).toISOString()
})
const ttlMsOf = (ttl: number | null): number => (ttl === null ? TTL_FALLBACK_MS : ttl)

const getCmd = (sid: Sid) =>
  command(`get(${sid})`, async (m, r) => {
    const got = await r.store.access.get(sid)
    const expected = liveOf(m, sid)?.value ?? null
    assert.ok(
      isDeepStrictEqual(got, expected === null ? null : asReadBack(jsonShape(expected))),
      `${r.name}: get(${sid}) = ${show(got)}, the model says ${show(expected)}`
    )
    tally(got === null ? 'get null' : 'get session')
  })

const setCmd = (sid: Sid, ttl: number | null, payload: unknown) =>
  command(`set(${sid}, ttl ${ttl}, ${show(payload)})`, async (m, r) => {
    const sess = { cookie: cookieOf(m.now, ttl), payload }
    const outcome = await r.store.access.set(sid, sess as unknown as SessionData)
    const ttlMs = ttlMsOf(ttl)
    let expected: string
    if (ttlMs <= 0) {
      expected = 'expired'
      tombstone(m, sid)
    } else if (entryOf(m, sid)?.kind === 'tomb') {
      expected = 'tombstoned'
    } else {
      expected = 'written'
      m.entries.set(sid, { kind: 'live', value: withoutPrototypeKeys(jsonShape(sess)), expiresAt: m.now + ttlMs })
    }
    assert.is(outcome, expected, `${r.name}: set(${sid}, ttl ${ttl})`)
    tally(`set ${expected}`)
  })

const touchCmd = (sid: Sid, ttl: number | null) =>
  command(`touch(${sid}, ttl ${ttl})`, async (m, r) => {
    const renewed = await r.store.access.touch(sid, { cookie: cookieOf(m.now, ttl) } as unknown as SessionData)
    const live = liveOf(m, sid)
    const ttlMs = ttlMsOf(ttl)
    if (live !== undefined && ttlMs <= 0) m.entries.delete(sid)
    else if (live !== undefined) live.expiresAt = m.now + ttlMs
    assert.is(renewed, live !== undefined, `${r.name}: touch(${sid}, ttl ${ttl})`)
    tally(`touch ${renewed}`)
  })

const destroyCmd = (sid: Sid) =>
  command(`destroy(${sid})`, async (m, r) => {
    const removed = await r.store.access.destroy(sid)
    const expected = liveOf(m, sid) !== undefined
    tombstone(m, sid)
    assert.is(removed, expected, `${r.name}: destroy(${sid})`)
    tally(`destroy ${removed}`)
  })

const lengthCmd = () =>
  command('length()', async (m, r) => {
    assert.is(await r.store.access.length(), liveSids(m).length, `${r.name}: length()`)
  })

const allCmd = () =>
  command('all()', async (m, r) => {
    const all = await r.store.access.all()
    const expected = Object.fromEntries(liveSids(m).map((s) => [s, liveOf(m, s)?.value]))
    const readBack = Object.fromEntries(Object.entries(expected).map(([sid, v]) => [sid, asReadBack(jsonShape(v))]))
    assert.ok(
      isDeepStrictEqual({ ...all }, readBack),
      `${r.name}: all() = ${show(all)}, the model says ${show(expected)}`
    )
  })

const idsCmd = () =>
  command('ids()', async (m, r) => {
    assert.equal([...(await r.store.access.ids())].sort(), liveSids(m), `${r.name}: ids()`)
  })

const clearCmd = () =>
  command('clear()', async (m, r) => {
    const live = liveSids(m)
    const removed = await r.store.access.clear()
    for (const s of live) tombstone(m, s)
    assert.is(removed, live.length, `${r.name}: clear()`)
  })

const advanceCmd = (ms: number) =>
  command(`advance(${ms})`, async (m, r) => {
    m.now += ms
    await r.advance(ms)
    assert.is(r.now(), m.now, 'clocks agree')
  })

/** Advances to `offset` ms from the moment `sid`'s entry expires (a plain advance when it has none). */
const advanceToExpiryCmd = (sid: Sid, offset: number, otherwise: number) =>
  command(`advanceToExpiry(${sid}, ${offset >= 0 ? '+' : ''}${offset}, else ${otherwise})`, async (m, r) => {
    const e = entryOf(m, sid)
    const ms = e === undefined ? otherwise : Math.max(0, e.expiresAt - m.now + offset)
    if (e !== undefined) tally(`advance to ${e.kind} expiry ${offset >= 0 ? '+' : ''}${offset}`)
    m.now += ms
    await r.advance(ms)
  })

interface Grain {
  readonly ttl: fc.Arbitrary<number | null>
  readonly advance: fc.Arbitrary<number>
  readonly offset: fc.Arbitrary<number>
}

/** Fake: any ms, with the boundaries (0, ±1 ms) well represented. */
const fineGrain: Grain = {
  ttl: fc.oneof(
    fc.constant(null),
    fc.integer({ min: -2_000, max: 9_000 }),
    fc.constantFrom(-1, 0, 1, 1_000, GRACE_MS, TTL_FALLBACK_MS)
  ),
  advance: fc.oneof(
    fc.integer({ min: 0, max: 9_000 }),
    fc.constantFrom(0, 1, 999, 1_000, GRACE_MS - 1, GRACE_MS, TTL_FALLBACK_MS)
  ),
  offset: fc.constantFrom(-1, 0, 1)
}

/** Real Redis: whole seconds, so that real time elapsed (a few ms) never crosses a boundary. */
const secondGrain: Grain = {
  ttl: fc.oneof(
    fc.constant(null),
    fc.integer({ min: -2, max: 9 }).map((s) => s * 1000)
  ),
  advance: fc.integer({ min: 0, max: 9 }).map((s) => s * 1000),
  offset: fc.constantFrom(-1000, 0, 1000)
}

const sidArb = fc.constantFrom(...SIDS)
const payloadArb = fc.oneof(
  fc.record({ user: fc.string({ maxLength: 8 }), n: fc.integer() }),
  fc.jsonValue({ maxDepth: 2 })
)

const commandsArb = (g: Grain) =>
  fc.commands(
    [
      // get, set and touch are listed more than once: they are picked more often, so live sessions abound.
      ...[1, 2].map(() => fc.tuple(sidArb).map(([s]) => getCmd(s))),
      ...[1, 2, 3].map(() => fc.tuple(sidArb, g.ttl, payloadArb).map(([s, ttl, p]) => setCmd(s, ttl, p))),
      ...[1, 2].map(() => fc.tuple(sidArb, g.ttl).map(([s, ttl]) => touchCmd(s, ttl))),
      fc.tuple(sidArb).map(([s]) => destroyCmd(s)),
      fc.constant(null).map(() => lengthCmd()),
      fc.constant(null).map(() => allCmd()),
      fc.constant(null).map(() => idsCmd()),
      fc.constant(null).map(() => clearCmd()),
      g.advance.map((ms) => advanceCmd(ms)),
      fc.tuple(sidArb, g.offset, g.advance).map(([s, o, ms]) => advanceToExpiryCmd(s, o, ms))
    ],
    { maxCommands: 40, size: 'max' }
  )

// --- the properties

const it = suite<{ redis: RealRedis }>('property: command sequences against a model with tombstones')

it.before(async (ctx) => {
  ctx.redis = await startRealRedis()
})
it.after(async (ctx) => {
  await ctx.redis.stop()
})

let commandsRun = 0
const runSequence = async (make: () => Promise<System>, cmds: Iterable<Cmd>): Promise<void> => {
  const r = await make()
  const m: Model = {
    now: r.now(),
    entries: new Map(),
    gone: r.name === 'fake' ? (at, now) => now > at : (at, now) => now >= at
  }
  const counted = [...cmds]
  commandsRun += counted.length
  await fc.asyncModelRun(() => ({ model: m, real: r }), counted)
}

it('fake client: the store answers like the model after every command', async () => {
  commandsRun = 0
  seen.clear()
  await checkProperty('model-based sequences, fake client (ms-precise clock)', [commandsArb(fineGrain)], (cmds) =>
    runSequence(async () => fakeSystem(), cmds)
  )
  console.log(
    `  [property] fake client: ${commandsRun} commands over the sequences (shrinking included); answers seen: ${JSON.stringify(
      Object.fromEntries([...seen].sort())
    )}`
  )
})

it('real redis-server (simulated time): the store answers like the model after every command', async ({ redis }) => {
  commandsRun = 0
  seen.clear()
  await checkProperty(
    'model-based sequences, real Redis (virtual clock, PTTL lowered by an admin script)',
    [commandsArb(secondGrain)],
    (cmds) =>
      runSequence(async () => {
        await redis.raw('FLUSHALL')
        return realSystem(redis)
      }, cmds),
    REAL_RUNS
  )
  console.log(
    `  [property] real Redis: ${commandsRun} commands over the sequences (shrinking included); answers seen: ${JSON.stringify(
      Object.fromEntries([...seen].sort())
    )}`
  )
})

it.run()
