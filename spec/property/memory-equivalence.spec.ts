/**
 * Proof of equivalence of the in-memory client (connect-redis-session/memory) with a real redis-server, as the
 * store sees them. Two properties:
 *
 * 1. Store sequences, differential. The same random sequence of store operations — get (facade and access),
 *    set, touch (facade, with lazy touch, and access), destroy, all, ids, length, clear, iterate, and with an owner
 *    index (`ownerOf`, with or without `maxSessionsPerOwner`) sessionsOf and destroySessionsOf, and sessions loaded
 *    then saved later (`load`, `saveHeld`: conditional saves, merges and conflicts under a random `concurrentSaves`,
 *    unchanged saves that only renew the TTL) — and of time
 *    advances runs through a store on a real redis-server (node-redis v6) and a store on `createMemoryClient()`,
 *    in lockstep, with random store options (prefix with or without glob characters, grace, lazy touch, SCAN
 *    page size, owner index) and session ids with glob characters (`strictSessionIds: false`). After every step the
 *    answers must be identical (or the same error), and so must the keyspaces: the same keys (foreign keys
 *    seeded beside the sessions included), types, string values, hash fields, sorted-set members with their
 *    scores, and remaining TTLs.
 *
 *    Time. Both stores run on one virtual clock (`now`): the memory client's clock is it, both stores get
 *    it as their `now` option. Real Redis expires keys on its own clock, which cannot be moved, so passing time
 *    is simulated on the real side by an admin script that lowers every TTL by the advance (deleting keys
 *    whose TTL runs out). Every duration in a sequence — cookie TTLs, the ttlSeconds fallback, the grace,
 *    advances — is a whole number of seconds plus half a second for TTLs and none for advances, so a key's
 *    remaining TTL on the virtual clock is always k·1000 + 500 ms, never 0: no boundary falls within the
 *    few real ms a step takes. After each step the admin script reads every real PTTL p, takes the remaining
 *    virtual TTL as the k·1000 + 500 just above p, asserts that p is below it by no more than the real time
 *    the step took (+1 ms), and sets that exact value back (so real time never accumulates between steps).
 *    The memory client's PTTL must equal it exactly.
 *
 *    Proven: for such sequences the store on the memory client answers and writes exactly as the store on
 *    Redis does, including SCAN paging and MATCH with escaped glob prefixes, tombstones (WRONGTYPE), the Lua
 *    scripts (NOSCRIPT then EVAL, counts, lazy touch's PTTL), and TTL arithmetic to the ms on the virtual
 *    clock. Not proven here: what happens at the exact ms of an expiry (memory: a key lives while now <=
 *    its expiry, Redis's rule, checked in spec/client/memory.spec.ts), TTLs that are not k·1000 + 500 (0 ms
 *    among them), concurrent operations, keyPrefix clients, and Redis Cluster.
 *
 * 2. Glob matching, differential: random keys and patterns (metacharacters, escapes, ranges, non-ASCII) through
 *    `KEYS pattern` on the real server and the memory client's matcher.
 */
import type { SessionData } from 'express-session'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createMemoryClient, type MemoryClient } from '../../src/memory'
import { globMatches } from '../../src/client/glob'
import { createRedisStore, type RedisSessionStore } from '../../src/express/create-redis-store'
import type { StoreOptions } from '../../src/options'
import { rethrowSetupError } from '../helpers'
import { checkProperty, show, startRealRedis, type RealRedis } from './support'

const U = 1000
const HALF = U / 2
const T0 = 1_700_000_000_000

// --- what a sequence is made of

type Step =
  | { readonly op: 'get' | 'aget' | 'destroy'; readonly sid: string }
  | { readonly op: 'set'; readonly sid: string; readonly ttl: number | null; readonly payload: unknown }
  | { readonly op: 'touch' | 'atouch'; readonly sid: string; readonly ttl: number | null }
  /** touch with a TTL of the key's remaining TTL + `by`: lazy touch's threshold met exactly, or not. */
  | { readonly op: 'renew'; readonly sid: string; readonly by: number }
  | { readonly op: 'all' | 'ids' | 'length' | 'clear' | 'iterate' }
  /** The owner index (configs with ownerOf): an owner's sessions, or all of them destroyed but maybe one. */
  | { readonly op: 'sessionsOf'; readonly owner: string }
  | { readonly op: 'destroySessionsOf'; readonly owner: string; readonly except: string | undefined }
  /**
   * A request loads a session (saving one first when there is none) and holds it (slot 0 or 1) until it saves it
   * (`saveHeld`): conditional saves.
   */
  | { readonly op: 'load'; readonly sid: string; readonly slot: 0 | 1 }
  | {
      readonly op: 'saveHeld'
      readonly slot: 0 | 1
      readonly field: 'n' | 'm'
      readonly value: number | null
      readonly ttl: number | null
    }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'advanceToExpiry'; readonly sid: string; readonly past: boolean; readonly otherwise: number }

interface Config {
  readonly prefix: string
  readonly graceSeconds: number
  readonly touchAfterSeconds: number
  readonly scanCount: number
  /** `ownerOf` (the payload's `user`) and `maxSessionsPerOwner`, or no owner index. */
  readonly owners: { readonly max: number } | null
  readonly concurrentSaves: 'overwrite' | 'merge' | 'fail'
}

/** Session ids, glob characters among them: the store escapes its prefix, never a session id it reads back. */
const SIDS = ['a', 'a*', '[ab]', 'x\\y', 'é'] as const
/**
 * Keys beside the sessions: some would match the prefix's glob if the store did not escape it, and one is the
 * glob prefix itself (a "session" with an empty id, holding no JSON: a corrupt session to both stores).
 */
const FOREIGN = ['other:1', 'sAx!:f', 'sess1:f', 'sess', 's*[x]?:'] as const

const sidArb = fc.constantFrom(...SIDS)
/** Remaining life k·1000 + 500 ms: from expired (-2500) to 9.5 s; null: the ttlSeconds fallback (6.5 s). */
const ttlArb = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -3, max: 9 }).map((s) => s * U + HALF)
)
const advanceArb = fc.integer({ min: 0, max: 8 }).map((s) => s * U)
const OWNERS = ['al', 'bo'] as const
const ownerArb = fc.constantFrom(...OWNERS)
const payloadArb = fc.oneof(
  fc.record({ user: fc.string({ maxLength: 6 }), n: fc.integer() }),
  fc.record({ user: ownerArb, n: fc.integer() }),
  fc.jsonValue({ maxDepth: 1 })
)

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: sidArb.map((sid) => ({ op: 'get' as const, sid })), weight: 2 },
  { arbitrary: sidArb.map((sid) => ({ op: 'aget' as const, sid })), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('set' as const), sid: sidArb, ttl: ttlArb, payload: payloadArb }),
    weight: 4
  },
  {
    arbitrary: fc.record({ op: fc.constantFrom('touch' as const, 'atouch' as const), sid: sidArb, ttl: ttlArb }),
    weight: 2
  },
  {
    arbitrary: fc.record({ op: fc.constant('renew' as const), sid: sidArb, by: fc.constantFrom(0, U, 2 * U, 3 * U) }),
    weight: 2
  },
  { arbitrary: sidArb.map((sid) => ({ op: 'destroy' as const, sid })), weight: 1 },
  {
    arbitrary: fc.constantFrom(...(['all', 'ids', 'length', 'clear', 'iterate'] as const)).map((op) => ({ op })),
    weight: 2
  },
  { arbitrary: ownerArb.map((owner) => ({ op: 'sessionsOf' as const, owner })), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('destroySessionsOf' as const),
      owner: ownerArb,
      except: fc.option(sidArb, { nil: undefined })
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      op: fc.constant('load' as const),
      sid: sidArb,
      slot: fc.constantFrom(0 as const, 1 as const)
    }),
    weight: 4
  },
  {
    arbitrary: fc.record({
      op: fc.constant('saveHeld' as const),
      slot: fc.constantFrom(0 as const, 1 as const),
      field: fc.constantFrom('n' as const, 'm' as const),
      value: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
      ttl: ttlArb
    }),
    weight: 3
  },
  { arbitrary: advanceArb.map((ms) => ({ op: 'advance' as const, ms })), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('advanceToExpiry' as const),
      sid: sidArb,
      past: fc.boolean(),
      otherwise: advanceArb
    }),
    weight: 2
  }
)

const configArb: fc.Arbitrary<Config> = fc.record({
  prefix: fc.constantFrom('sess:', 's*[x]?:'),
  graceSeconds: fc.constantFrom(0, 2.5, 4.5),
  touchAfterSeconds: fc.constantFrom(0, 2),
  scanCount: fc.constantFrom(1, 2, 100),
  owners: fc.constantFrom(null, { max: 0 }, { max: 2 }),
  concurrentSaves: fc.constantFrom('overwrite' as const, 'merge' as const, 'fail' as const)
})

const ownerOf = (session: SessionData): string | undefined => {
  const user = (session as { payload?: { user?: unknown } }).payload?.user
  return typeof user === 'string' ? user : undefined
}

// --- the two sides

interface Side {
  readonly store: RedisSessionStore
  /** Sessions loaded by `load` and held until `saveHeld`. */
  readonly held: Array<{ readonly sid: string; readonly session: Record<string, unknown> } | undefined>
}

const optionsOf = (c: Config): StoreOptions => ({
  prefix: c.prefix,
  concurrencyGraceSeconds: c.graceSeconds,
  touchAfterSeconds: c.touchAfterSeconds,
  scanCount: c.scanCount,
  ttlSeconds: 6.5,
  strictSessionIds: false,
  checkEvictionPolicy: false,
  concurrentSaves: c.concurrentSaves,
  ...(c.owners === null ? {} : { ownerOf, maxSessionsPerOwner: c.owners.max })
})

const cookieOf = (now: number, ttl: number | null) => ({
  originalMaxAge: ttl,
  expires: ttl === null ? null : new Date(now + ttl).toISOString()
})

/** An answer, or the error's code and message: what a step is compared on. */
const outcome = async (run: () => Promise<unknown>): Promise<unknown> => {
  try {
    return { ok: await run() }
  } catch (e) {
    return { error: e instanceof Error ? `${(e as { code?: string }).code ?? ''} ${e.message}` : String(e) }
  }
}

const byKey = (a: readonly [string, unknown], b: readonly [string, unknown]): number => (a[0] < b[0] ? -1 : 1)

const perform = (side: Side, step: Step, now: number): Promise<unknown> => {
  const { store } = side
  switch (step.op) {
    case 'get':
      return outcome(() => store.get(step.sid))
    case 'aget':
      return outcome(() => store.access.get(step.sid))
    case 'set':
      return outcome(() =>
        store.access.set(step.sid, { cookie: cookieOf(now, step.ttl), payload: step.payload } as unknown as SessionData)
      )
    case 'touch':
      return outcome(
        () =>
          new Promise<void>((resolve, reject) =>
            store.touch(step.sid, { cookie: cookieOf(now, step.ttl) } as unknown as SessionData, (err) =>
              err === null || err === undefined ? resolve() : reject(err)
            )
          )
      )
    case 'load':
      return outcome(async () => {
        // A session to hold: the one there, or one saved first (a tombstone refuses it: nothing is held).
        let found = await store.access.get(step.sid)
        if (found === null) {
          const fresh = { cookie: cookieOf(now, 9 * U + HALF), payload: { user: 'al', n: 0 } }
          await store.access.set(step.sid, fresh as unknown as SessionData)
          found = await store.access.get(step.sid)
        }
        side.held[step.slot] =
          found === null ? undefined : { sid: step.sid, session: found as unknown as Record<string, unknown> }
        return found
      })
    case 'saveHeld': {
      const held = side.held[step.slot]
      if (held === undefined) return Promise.resolve('nothing held')
      if (step.value === null) delete held.session[step.field]
      else held.session[step.field] = step.value
      held.session['cookie'] = cookieOf(now, step.ttl)
      return outcome(() => store.access.set(held.sid, held.session as unknown as SessionData))
    }
    case 'atouch':
      return outcome(() => store.access.touch(step.sid, { cookie: cookieOf(now, step.ttl) } as unknown as SessionData))
    case 'destroy':
      return outcome(() => store.access.destroy(step.sid))
    case 'all':
      return outcome(async () => Object.entries(await store.access.all()).sort(byKey))
    case 'ids':
      return outcome(async () => [...(await store.access.ids())].sort())
    case 'length':
      return outcome(() => store.access.length())
    case 'clear':
      return outcome(() => store.access.clear())
    case 'sessionsOf':
      return outcome(() => store.access.sessionsOf(step.owner))
    case 'destroySessionsOf':
      return outcome(() =>
        store.access.destroySessionsOf(step.owner, step.except === undefined ? {} : { except: step.except })
      )
    case 'iterate':
      return outcome(async () => {
        const seen: Array<readonly [string, unknown]> = []
        for await (const entry of store.access.iterate()) seen.push(entry)
        return seen.sort(byKey)
      })
    default:
      return Promise.resolve(undefined)
  }
}

/** What a key holds, TTL apart: the compared part of a keyspace. */
interface Held {
  readonly key: string
  readonly type: string
  readonly value: string | Record<string, string> | null
  readonly pttl: number
}

/**
 * Every key: type, value, PTTL p; for keys with a TTL, the remaining virtual TTL r (the k·1000 + 500 just
 * above p) is lowered by ARGV[2] (an advance) and set back exactly; keys whose r runs out are deleted and not
 * listed. Replies { key, type, value, p, r }.
 */
const SETTLE_SCRIPT = `local unit = tonumber(ARGV[1])
local advance = tonumber(ARGV[2])
local out = {}
for _, k in ipairs(redis.call('KEYS', '*')) do
  local t = redis.call('TYPE', k)['ok']
  local v = false
  if t == 'string' then v = redis.call('GET', k) elseif t == 'hash' then v = redis.call('HGETALL', k)
  elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES') end
  local p = redis.call('PTTL', k)
  local r = -1
  local keep = true
  if p >= 0 then
    r = math.floor(p / unit) * unit + unit / 2
    if r - advance < 0 then
      redis.call('DEL', k)
      keep = false
    else
      redis.call('PEXPIRE', k, r - advance)
    end
  end
  if keep then table.insert(out, { k, t, v, p, r - (r >= 0 and advance or 0) }) end
end
return out`

type SettledRow = [string, string, string | Array<string> | null, number, number]

const fieldsOf = (flat: ReadonlyArray<string>): Record<string, string> => {
  const o: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i] as string] = flat[i + 1] as string
  return o
}

/**
 * The real keyspace after a step, every TTL settled on the virtual clock; checks each PTTL against it: below
 * by at most the real time since `since` (when TTLs were last settled, or the step began), plus 1 ms.
 */
const settleReal = async (redis: RealRedis, advance: number, since: number, trace: () => string) => {
  const rows = (await redis.raw('EVAL', SETTLE_SCRIPT, '0', String(U), String(advance))) as Array<SettledRow>
  const elapsed = performance.now() - since
  return rows
    .map(([key, type, v, p, r]): Held => {
      if (p >= 0) {
        const residual = p - (r + advance)
        assert.ok(
          residual <= 0 && residual >= -(elapsed + 1),
          `real PTTL of ${show(key)} is ${p}: ${-residual} ms below the virtual ${r + advance}, ${elapsed.toFixed(
            1
          )} ms passed since TTLs were last settled${trace()}`
        )
      }
      return {
        key,
        type,
        value: type === 'hash' || type === 'zset' ? fieldsOf(v as Array<string>) : (v as string | null),
        pttl: p >= 0 ? r : p
      }
    })
    .sort((a, b) => (a.key < b.key ? -1 : 1))
}

const heldInMemory = (client: MemoryClient): Array<Held> =>
  client.keyspace
    .keys()
    .map((key): Held => {
      const e = client.keyspace.get(key)
      return {
        key,
        type: e?.type ?? 'none',
        value:
          e === undefined
            ? null
            : e.type === 'string'
            ? e.value
            : e.type === 'hash'
            ? { ...e.fields }
            : Object.fromEntries([...e.members].map(([m, score]) => [m, String(score)])),
        pttl: client.keyspace.pttl(key)
      }
    })
    .sort((a, b) => (a.key < b.key ? -1 : 1))

// --- the properties

const it = suite<{ redis: RealRedis; setupError?: unknown }>('memory client ≡ real Redis')

it.before(async (ctx) => {
  try {
    ctx.redis = await startRealRedis()
  } catch (e) {
    ctx.setupError = e
  }
})
it.before.each((ctx) => rethrowSetupError(ctx.setupError))
it.after(async (ctx) => {
  await ctx.redis?.stop()
})

const seen = new Map<string, number>()
const tally = (what: string): void => void seen.set(what, (seen.get(what) ?? 0) + 1)
const kindOf = (step: Step, answer: unknown): string => {
  const a = answer as { ok?: unknown; error?: string }
  if (a?.error !== undefined) return `${step.op} error`
  if (step.op === 'set' || step.op === 'atouch' || step.op === 'destroy' || step.op === 'saveHeld')
    return `${step.op} ${String(a?.ok ?? a)}`
  if (step.op === 'get' || step.op === 'aget') return `${step.op} ${a?.ok === null ? 'null' : 'session'}`
  if (step.op === 'sessionsOf') return `sessionsOf ${Array.isArray(a?.ok) && a.ok.length > 0 ? 'some' : 'none'}`
  if (step.op === 'destroySessionsOf') return `destroySessionsOf ${a?.ok === 0 ? 'none' : 'some'}`
  return step.op
}

it('store operations: the same answers, keys, values and TTLs on both, after every step', async ({ redis }) => {
  seen.clear()
  let steps = 0
  await checkProperty(
    'store sequences, real Redis vs memory client (lockstep, virtual clock)',
    [configArb, fc.array(stepArb, { minLength: 4, maxLength: 20 })],
    async (config, sequence) => {
      let now = T0
      const clock = () => now
      let settledAt = performance.now()
      await redis.raw('FLUSHDB')
      const client = createMemoryClient({ now: clock })
      await Promise.all(
        FOREIGN.map((k) => {
          client.keyspace.set(k, { type: 'string', value: `foreign ${k}` })
          return redis.raw('SET', k, `foreign ${k}`)
        })
      )
      const real: Side = { store: createRedisStore(redis.client, { ...optionsOf(config), now: clock }), held: [] }
      const memory: Side = {
        store: createRedisStore(client, { ...optionsOf(config), now: client.clock.now }),
        held: []
      }
      const done: Array<string> = []
      const trace = () => `\n  config ${show(config)}\n  steps ${done.join('; ')}`
      for (const planned of sequence) {
        steps++
        let advance = 0
        let step = planned
        if (planned.op === 'renew') {
          const pttl = client.keyspace.pttl(config.prefix + planned.sid)
          step = { op: 'touch', sid: planned.sid, ttl: pttl < 0 ? 6500 : pttl + planned.by }
        } else if (step.op === 'advance') advance = step.ms
        else if (step.op === 'advanceToExpiry') {
          const pttl = client.keyspace.pttl(config.prefix + step.sid)
          advance = pttl < 0 ? step.otherwise : step.past ? pttl + HALF : pttl - HALF
        }
        done.push(
          step.op === 'advanceToExpiry'
            ? `advance(${advance}) [${show(step)}]`
            : `${show(step)}${step === planned ? '' : ` [${show(planned)}]`}`
        )
        const [answerOfMemory, answerOfReal] = [await perform(memory, step, now), await perform(real, step, now)]
        assert.ok(
          isDeepStrictEqual(answerOfMemory, answerOfReal),
          `answers differ: memory ${show(answerOfMemory)}, real ${show(answerOfReal)}${trace()}`
        )
        tally(kindOf(step, answerOfReal))
        now += advance
        const settling = performance.now()
        const heldReal = await settleReal(redis, advance, settledAt, trace)
        settledAt = settling
        const heldMemory = heldInMemory(client)
        assert.ok(
          isDeepStrictEqual(heldMemory, heldReal),
          `keyspaces differ:\n  memory ${show(heldMemory)}\n  real   ${show(heldReal)}${trace()}`
        )
      }
    }
  )
  console.log(
    `  [property] ${steps} steps (shrinking included); outcomes: ${JSON.stringify(
      Object.fromEntries([...seen].sort())
    )}`
  )
})

const CHARS = ['a', 'b', 'c', 'z', '-', '^', '*', '?', '[', ']', '\\', 'é', ':', '\u00ff'] as const
const charArb = fc.constantFrom(...CHARS)
/** Patterns built from glob tokens, so that classes, negations, ranges (both orders) and escapes are common. */
const classArb = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.oneof(
        charArb,
        fc.tuple(charArb, charArb).map(([a, b]) => `${a}-${b}`),
        charArb.map((c) => `\\${c}`)
      ),
      { maxLength: 3 }
    ),
    fc.boolean()
  )
  .map(([not, items, closed]) => `[${not ? '^' : ''}${items.join('')}${closed ? ']' : ''}`)
const patternArb = fc
  .array(
    fc.oneof(
      charArb,
      fc.constantFrom('*', '?'),
      charArb.map((c) => `\\${c}`),
      classArb
    ),
    {
      minLength: 1,
      maxLength: 4
    }
  )
  .map((tokens) => tokens.join(''))
const keyArb = fc.array(charArb, { maxLength: 5 }).map((cs) => cs.join(''))

it('glob: KEYS pattern on Redis and the memory matcher select the same keys', async ({ redis }) => {
  await checkProperty(
    'MATCH patterns, real Redis KEYS vs globMatches',
    [patternArb, fc.uniqueArray(keyArb, { maxLength: 12 })],
    async (pattern, keys) => {
      await redis.raw('FLUSHDB')
      if (keys.length > 0) await redis.raw('MSET', ...keys.flatMap((k) => [k, '1']))
      const fromRedis = ((await redis.raw('KEYS', pattern)) as Array<string>).sort()
      const fromMemory = keys.filter((k) => pattern === '*' || globMatches(pattern, k)).sort()
      assert.equal(fromMemory, fromRedis, `pattern ${show(pattern)} over ${show(keys)}`)
    }
  )
})

it.run()
