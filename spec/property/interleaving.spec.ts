/**
 * Property 4: concurrent destroy / set / touch / get of one session, every interleaving of the requests in
 * flight (fc.scheduler). The fake client is wrapped so that each command waits for the scheduler twice: once
 * before it reaches the "server" (the request in flight) and once before its reply reaches the store (the
 * reply in flight). Each fake command is atomic, like a Redis command; what varies is the order in which
 * requests arrive and replies come back, and when each operation is started.
 *
 * Once a destroy has resolved, nothing started afterwards sees the session within the grace period: get →
 * null, set: 'tombstoned', touch: false, destroy: false; and at the end the key is a tombstone until the
 * grace period is over, after which the id can be used again.
 */
import type { SessionData } from 'express-session'
import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { RedisLike } from '../../src/client/contract'
import { createRedisStore, type RedisSessionStore } from '../../src/express/create-redis-store'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { checkProperty, replaying, show } from './support'

const SID = 'victim'
const KEY = 'sessions:' + SID
const GRACE_S = 300

/**
 * The fake, with every command held by the scheduler before it runs and again before its reply is
 * delivered. The command itself runs atomically when released (the fake's commands are synchronous inside).
 */
const scheduled = (fake: FakeRedis, s: fc.Scheduler): RedisLike => {
  const hold =
    <A extends Array<any>, R>(name: string, command: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await s.schedule(Promise.resolve(), `${name} reaches Redis`)
      const outcome = await command(...args).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error })
      )
      await s.schedule(Promise.resolve(), `${name} reply reaches the store`)
      if (outcome.ok) return outcome.value
      throw outcome.error
    }
  return {
    get: hold('GET', fake.get),
    set: hold('SET', fake.set),
    getEx: hold('GETEX', fake.getEx),
    getDel: hold('GETDEL', fake.getDel),
    mGet: hold('MGET', fake.mGet),
    evalSha: hold('EVALSHA', fake.evalSha),
    eval: hold('EVAL', fake.eval),
    scan: hold(
      'SCAN',
      fake.scan as (cursor: string, options: Parameters<RedisLike['scan']>[1]) => ReturnType<RedisLike['scan']>
    ) as RedisLike['scan']
  }
}

type Op = 'get' | 'set' | 'setExpired' | 'touch' | 'touchExpired' | 'destroy'
const opArb = fc.constantFrom<Op>('get', 'set', 'setExpired', 'touch', 'touchExpired', 'destroy', 'get', 'set', 'touch')

const caseArb = fc.record({
  /** Started concurrently with the destroy, at points the scheduler chooses. */
  before: fc.array(opArb, { minLength: 1, maxLength: 6 }),
  /** Where the destroy sits among them. */
  destroyAt: fc.nat(),
  /** Started (through the scheduler too) as soon as the destroy has resolved. */
  after: fc.array(opArb, { minLength: 1, maxLength: 4 }),
  /** Whether the session exists before anything starts. */
  liveAtStart: fc.boolean(),
  /** Two app instances (two stores on one Redis) or one. */
  twoStores: fc.boolean()
})

const sessionAt = (now: number, inMs: number, tag: string) =>
  ({ cookie: { originalMaxAge: inMs, expires: new Date(now + inMs).toISOString() }, tag } as unknown as SessionData)

interface Done {
  readonly label: string
  readonly op: Op
  /** A destroy had resolved before this operation was started. */
  readonly afterDestroy: boolean
  readonly result: unknown
}

const it = suite('property: interleavings of destroy with set / touch / get (fake client, fc.scheduler)')

it('once destroy has resolved, no operation started later sees the session within the grace period', async () => {
  let interleavings = 0
  let laterOps = 0
  /** Outcomes of the operations racing the destroy: both orders must show up. */
  const concurrent = new Map<string, number>()
  await checkProperty(
    'destroy vs concurrent set/touch/get, every interleaving (fake client + fc.scheduler)',
    [fc.scheduler(), caseArb],
    async (s, { before, destroyAt, after, liveAtStart, twoStores }) => {
      const fake = makeFakeRedis()
      const client = scheduled(fake, s)
      const options = { now: fake.now, concurrencyGraceSeconds: GRACE_S, checkEvictionPolicy: false } as const
      const stores: ReadonlyArray<RedisSessionStore> = twoStores
        ? [createRedisStore(client, options), createRedisStore(client, options)]
        : [createRedisStore(client, options)]
      // The same store, but on the fake directly: for setting up and checking, outside the scheduler.
      const direct = createRedisStore(fake, options)
      if (liveAtStart) assert.is(await direct.access.set(SID, sessionAt(fake.now(), 60_000, 'start')), 'written')

      let destroyed = false
      const done: Array<Done> = []
      const total = before.length + 1 + after.length
      let finished = (): void => undefined
      const allDone = new Promise<void>((resolve) => {
        finished = resolve
      })
      const tags = new Set(['start'])
      const perform = (op: Op, label: string, store: RedisSessionStore): Promise<void> => {
        const afterDestroy = destroyed
        const now = fake.now()
        const run = (): Promise<unknown> => {
          switch (op) {
            case 'get':
              return store.access.get(SID)
            case 'set':
              tags.add(label)
              return store.access.set(SID, sessionAt(now, 60_000, label))
            case 'setExpired':
              return store.access.set(SID, sessionAt(now, -1, label))
            case 'touch':
              return store.access.touch(SID, sessionAt(now, 120_000, label))
            case 'touchExpired':
              return store.access.touch(SID, sessionAt(now, -1, label))
            case 'destroy':
              return store.access.destroy(SID)
          }
        }
        const rejected = (e: unknown) => ({ rejected: (e as { code?: unknown }).code ?? String(e) })
        return run()
          .then(undefined, rejected)
          .then((result) => {
            done.push({ label, op, afterDestroy, result })
            if (done.length === total) finished()
            if (op === 'destroy' && !destroyed) {
              destroyed = true
              // Requests that start now, each at a point the scheduler chooses.
              for (const [i, next] of after.entries()) {
                const l = `after#${i} ${next}`
                void s
                  .schedule(Promise.resolve(), `start ${l}`)
                  .then(() => perform(next, l, stores[i % stores.length] as RedisSessionStore))
              }
            }
          })
      }

      const ops: Array<Op> = [...before]
      ops.splice(destroyAt % (before.length + 1), 0, 'destroy')
      for (const [i, op] of ops.entries()) {
        const label = `#${i} ${op}`
        void s
          .schedule(Promise.resolve(), `start ${label}`)
          .then(() => perform(op, label, stores[i % stores.length] as RedisSessionStore))
      }
      // Release scheduled tasks, in the order the scheduler picks, until every operation has finished.
      await s.waitFor(allDone)
      assert.is(s.count(), 0, 'nothing is left in flight')
      interleavings++

      const trace = () =>
        `\n${done
          .map((d) => `${d.label}${d.afterDestroy ? ' (started after a destroy resolved)' : ''}: ${show(d.result)}`)
          .join('\n')}`
      assert.is(done.length, ops.length + after.length, `every operation finished${trace()}`)
      for (const d of done) {
        if (d.op === 'get' && d.result !== null) {
          assert.ok(
            tags.has((d.result as { tag?: string }).tag ?? ''),
            `get returned a session nobody saved: ${show(d.result)}${trace()}`
          )
        }
        if (!d.afterDestroy) {
          const what = `concurrent ${d.op}: ${
            d.op === 'get' ? (d.result === null ? 'null' : 'session') : show(d.result)
          }`
          concurrent.set(what, (concurrent.get(what) ?? 0) + 1)
          continue
        }
        laterOps++
        const expected = {
          get: null,
          set: 'tombstoned',
          setExpired: 'expired',
          touch: false,
          touchExpired: false,
          destroy: false
        }[d.op]
        assert.is(d.result, expected, `${d.label}, started after destroy resolved${trace()}`)
      }

      // Settled: no session, a tombstone, nothing listed — until the grace period ends.
      assert.is(await direct.access.get(SID), null, `get after everything settled${trace()}`)
      assert.is(fake.keyspace.get(KEY)?.type, 'hash', `the key is a tombstone${trace()}`)
      assert.is(await direct.access.length(), 0)
      assert.equal(await direct.access.all(), {})
      fake.clock.advance(GRACE_S * 1000 - 1)
      assert.is(
        await direct.access.set(SID, sessionAt(fake.now(), 60_000, 'late')),
        'tombstoned',
        'a save 1 ms before the grace period ends is refused'
      )
      assert.is(await direct.access.get(SID), null)
      fake.clock.advance(1)
      assert.is(fake.keyspace.pttl(KEY), 0, 'at the end of the grace period the tombstone is still there (PTTL 0)')
      assert.is(await direct.access.set(SID, sessionAt(fake.now(), 60_000, 'edge')), 'tombstoned')
      fake.clock.advance(1)
      assert.is(await direct.access.get(SID), null, 'the tombstone expires 1 ms after the grace period (now > expiry)')
      assert.is(fake.keyspace.get(KEY) !== undefined, false)
      assert.is(
        await direct.access.set(SID, sessionAt(fake.now(), 60_000, 'again')),
        'written',
        'after the grace period the id can be saved again'
      )
    }
  )
  console.log(
    `  [property] interleavings: ${interleavings} runs, ${laterOps} operations started after a destroy resolved; racing outcomes: ${JSON.stringify(
      Object.fromEntries([...concurrent].sort())
    )}`
  )
  for (const seen of replaying()
    ? []
    : [
        'concurrent get: session',
        'concurrent get: null',
        'concurrent set: "written"',
        'concurrent set: "tombstoned"',
        'concurrent touch: true',
        'concurrent touch: false'
      ]) {
    assert.ok((concurrent.get(seen) ?? 0) > 0, `the scheduler produced both orders: ${seen}`)
  }
})

it.run()
