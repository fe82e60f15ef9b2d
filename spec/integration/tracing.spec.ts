/**
 * Tracing and lifecycle events against a real redis-server, on node-redis v6, ioredis 5, Valkey GLIDE and the
 * in-memory client:
 * a subscriber of `connect-redis-session:operation` sees every operation once, with its outcome, and no context
 * holds a whole session id or a session value (with a control: the leak check finds a value put in a context);
 * `created` and `destroyed` fire once each, concurrent first saves and concurrent logouts included.
 */
import diagnostics_channel from 'diagnostics_channel'
import IoRedis from 'ioredis'
import { createClient } from 'redis'
import type { SessionData } from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SessionClient } from '../../src/client/contract'
import type { NodeRedisClient } from '../../src/client/node-redis'
import { createRedisStore, type RedisSessionStore } from '../../src/express/create-redis-store'
import { fromIoRedis } from '../../src/ioredis'
import { createMemoryClient } from '../../src/memory'
import { fromValkeyGlide } from '../../src/valkey-glide'
import { glideClient } from '../support/glide'
import type { CreatedEvent, DestroyedEvent } from '../../src/operations/lifecycle'
import { OPERATION_CHANNEL, type OperationContext } from '../../src/operations/trace'
import { startRedis, type RedisServer } from '../support/redis-server'

const SECRET = 'hunter2-the-secret-field-value'
type EventName = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'

/** Every context published, with the events it was published in, in order. */
interface Recorded {
  readonly context: OperationContext
  readonly events: Array<EventName>
}

const record = (): { readonly seen: Array<Recorded>; readonly stop: () => void } => {
  const channel = diagnostics_channel.tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
  const seen: Array<Recorded> = []
  const byContext = new Map<OperationContext, Recorded>()
  const on = (event: EventName) => (context: OperationContext) => {
    let r = byContext.get(context)
    if (r === undefined) {
      r = { context, events: [] }
      byContext.set(context, r)
      seen.push(r)
    }
    r.events.push(event)
  }
  const handlers = {
    start: on('start'),
    end: on('end'),
    asyncStart: on('asyncStart'),
    asyncEnd: on('asyncEnd'),
    error: on('error')
  }
  channel.subscribe(handlers)
  return { seen, stop: () => channel.unsubscribe(handlers) }
}

/** Every string a context holds, however deep (an error's message, code and stack included). */
const stringsOf = (value: unknown, into: Array<string> = [], depth = 0): Array<string> => {
  if (depth > 6) return into
  if (typeof value === 'string') into.push(value)
  else if (typeof value === 'number' || typeof value === 'boolean') into.push(String(value))
  else if (value instanceof Error) {
    into.push(value.message, String(value.stack))
    for (const k of Object.getOwnPropertyNames(value))
      stringsOf((value as unknown as Record<string, unknown>)[k], into, depth + 1)
    stringsOf(value.cause, into, depth + 1)
  } else if (typeof value === 'object' && value !== null)
    for (const k of Reflect.ownKeys(value)) stringsOf((value as Record<string | symbol, unknown>)[k], into, depth + 1)
  return into
}

/** What a context shows that it must not: a whole id, or a secret. */
const leaks = (context: unknown, secrets: ReadonlyArray<string>): ReadonlyArray<string> =>
  secrets.filter((secret) => stringsOf(context).some((s) => s.includes(secret)))

const day = (extra: Record<string, unknown> = {}): SessionData =>
  ({
    cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000) },
    ...extra
  } as unknown as SessionData)

const sid = (n: number): string => `tracedSession${String(n).padStart(4, '0')}xxxxxxxxxxxxxxxx`

interface Subject {
  readonly name: string
  readonly make: (url: string) => Promise<{
    readonly client: SessionClient | NodeRedisClient
    readonly stop: () => Promise<unknown>
    readonly raw: (k: string, v: string) => Promise<unknown>
  }>
}

const SUBJECTS: ReadonlyArray<Subject> = [
  {
    name: 'node-redis v6',
    make: async (url) => {
      const c = createClient({ url })
      await c.connect()
      return { client: c as unknown as NodeRedisClient, stop: () => c.quit(), raw: (k, v) => c.set(k, v) }
    }
  },
  {
    name: 'ioredis 5',
    make: async (url) => {
      const c = new IoRedis(url, { lazyConnect: true })
      await c.connect()
      return { client: fromIoRedis(c), stop: () => c.quit(), raw: (k, v) => c.set(k, v) }
    }
  },
  {
    name: 'Valkey GLIDE',
    make: async (url) => {
      const c = await glideClient(url)
      return {
        client: fromValkeyGlide(c),
        stop: () => Promise.resolve(c.close()),
        raw: (k: string, v: string) => c.set(k, v)
      }
    }
  },
  {
    name: 'memory',
    make: () => {
      const c = createMemoryClient()
      return Promise.resolve({
        client: c,
        stop: () => Promise.resolve(),
        raw: (k: string, v: string) => c.set(k, v, { PX: 60_000, GET: true })
      })
    }
  }
]

const it = suite('tracing: connect-redis-session:operation')
let redis: RedisServer | undefined
it.before(async () => {
  redis = await startRedis()
})
it.after(async () => {
  await redis?.stop()
})

const newStore = (client: SessionClient | NodeRedisClient, prefix: string): RedisSessionStore =>
  createRedisStore(client, {
    prefix,
    concurrentSaves: 'fail',
    ownerOf: (s) => {
      const user: unknown = (s as unknown as { readonly user?: unknown }).user
      return typeof user === 'string' ? user : undefined
    }
  })

for (const subject of SUBJECTS) {
  it(`${subject.name}: every operation once, with its outcome, and nothing secret`, async () => {
    if (redis === undefined) throw new Error('no redis')
    const { client, stop, raw } = await subject.make(redis.url)
    const prefix = `trace:${subject.name.replace(/\W/g, '')}:`
    const store = newStore(client, prefix)
    const { seen, stop: unsubscribe } = record()
    const a = sid(1)
    try {
      const access = store.access
      assert.is(await access.get(a), null)
      assert.is(await access.set(a, day({ user: 'ada', secret: SECRET })), 'written')
      assert.is(await access.set(a, day({ user: 'ada', secret: SECRET })), 'written')
      // Two copies read: one saved, then the other (concurrentSaves: 'fail').
      const first = await access.get(a)
      const second = await access.get(a)
      if (first === null || second === null) throw new Error('no session')
      assert.is(await access.set(a, Object.assign(first, { n: 1 })), 'written')
      await access.set(a, Object.assign(second, { n: 2 })).then(
        () => assert.unreachable('the later save of a stale copy is refused'),
        (e: { code?: string }) => assert.is(e.code, 'ESESSION_CONFLICT')
      )
      assert.is(await access.touch(a, day({ user: 'ada' })), true)
      assert.is(await access.destroy(a), true)
      assert.is(await access.get(a), null)
      assert.is(await access.set(a, day({ secret: SECRET })), 'tombstoned')
      assert.is(await access.touch(a, day()), false)
      assert.is(await access.destroy(a), false)
      await raw(`${prefix}${sid(2)}`, `{"not json ${SECRET}`)
      assert.is(await access.get(sid(2)), null)
      assert.is(await access.destroy(sid(2)), true)
      await access.get('bad id!').then(
        () => assert.unreachable('an invalid id is refused'),
        (e: { code?: string }) => assert.is(e.code, 'ESESSION_INVALID_ID')
      )
      for (const n of [3, 4, 5]) await access.set(sid(n), day({ user: 'bob', secret: SECRET }))
      assert.is((await access.sessionsOf('bob')).length, 3)
      assert.is(Object.keys(await access.all()).length, 3)
      assert.is((await access.ids()).length, 3)
      assert.is(await access.length(), 3)
      let iterated = 0
      for await (const entry of access.iterate()) iterated += entry === undefined ? 0 : 1
      assert.is(iterated, 3)
      assert.is(await access.destroySessionsOf('bob', { except: sid(5) }), 2)
      assert.is(await access.clear(), 1)
    } finally {
      unsubscribe()
      await stop()
    }
    const lines = seen.map(({ context: c }) =>
      [c.operation, c.outcome, c.created === true ? 'created' : '', c.keys === undefined ? '' : `keys=${c.keys}`]
        .filter((s) => s !== '')
        .join(' ')
    )
    assert.equal(lines, [
      'get miss',
      'set written created',
      'set written',
      'get hit',
      'get hit',
      'set written',
      'set conflict',
      'touch touched',
      'destroy destroyed',
      'get tombstoned',
      'set tombstoned',
      'touch tombstoned',
      'destroy miss',
      'get corrupt',
      'destroy destroyed',
      'get error',
      'set written created',
      'set written created',
      'set written created',
      'sessionsOf done keys=3',
      'all done keys=3',
      'ids done keys=3',
      'length done keys=3',
      'iterate done keys=3',
      'destroySessionsOf done keys=2',
      'clear done keys=1'
    ])
    for (const { context, events } of seen) {
      const failed = context.outcome === 'conflict' || context.outcome === 'error'
      assert.equal(
        events,
        failed ? ['start', 'end', 'error', 'asyncStart', 'asyncEnd'] : ['start', 'end', 'asyncStart', 'asyncEnd'],
        `${context.operation} ${String(context.outcome)}: its events`
      )
      if (failed) assert.ok(typeof context.error?.code === 'string', 'a failure has its code')
      assert.equal(leaks(context, [SECRET, a, sid(2), sid(3), sid(5), '"user"', 'ada']), [], 'no context leaks')
      if (context.sid !== undefined) assert.match(context.sid, /^(\w{4})?…$/, 'a redacted id: 4 characters at most')
    }
    const bytes = (i: number): number => seen[i]?.context.bytes ?? -1
    assert.ok(bytes(1) > SECRET.length, 'a write counts its bytes')
    assert.is(bytes(3), bytes(2), 'a read counts the bytes the write stored')
    assert.is(seen[0]?.context.bytes, 0, 'a miss reads nothing')
  })
}

it('the leak check fails when a value or a whole id is put in a context (control)', () => {
  const context = { operation: 'get', sid: 'trac…', outcome: 'hit' }
  assert.equal(leaks(context, [SECRET, sid(1)]), [])
  assert.equal(leaks({ ...context, value: { secret: SECRET } }, [SECRET]), [SECRET])
  assert.equal(leaks({ ...context, sid: sid(1) }, [sid(1)]), [sid(1)])
  const error = Object.assign(new Error('session get failed'), { cause: new SyntaxError(`bad JSON: ${SECRET}`) })
  assert.equal(leaks({ ...context, error }, [SECRET]), [SECRET])
})

it('no subscriber: nothing is published, and the operations answer as ever', async () => {
  const channel = diagnostics_channel.tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
  assert.is(channel.start.hasSubscribers || channel.asyncEnd.hasSubscribers, false)
  const store = newStore(createMemoryClient(), 'quiet:')
  assert.is(await store.access.set(sid(1), day()), 'written')
  assert.ok((await store.access.get(sid(1))) !== null)
})

const lifecycle = suite('lifecycle events: created and destroyed')
let server: RedisServer | undefined
lifecycle.before(async () => {
  server = await startRedis()
})
lifecycle.after(async () => {
  await server?.stop()
})

lifecycle(
  'once each: concurrent first saves, concurrent logouts, an owner logged out everywhere, a clear',
  async () => {
    if (server === undefined) throw new Error('no redis')
    const c = createClient({ url: server.url })
    await c.connect()
    try {
      const store = newStore(c as unknown as NodeRedisClient, 'life:')
      const created: Array<CreatedEvent> = []
      const destroyed: Array<DestroyedEvent> = []
      store.on('created', (e) => created.push(e)).on('destroyed', (e) => destroyed.push(e))
      const ids = [1, 2, 3, 4, 5].map(sid)
      // Each id saved by 5 requests at once: one of them is its first write.
      await Promise.all(ids.flatMap((id) => [1, 2, 3, 4, 5].map(() => store.access.set(id, day({ user: 'ada' })))))
      assert.equal(created.map((e) => e.sid).sort(), [...ids].sort())
      // Two logouts of one session at once: one destroyed it.
      await Promise.all([store.access.destroy(sid(1)), store.access.destroy(sid(1))])
      assert.equal(destroyed, [{ reason: 'destroy', sid: sid(1) }])
      // A destroy of a session that is not live tells nothing.
      await store.access.destroy(sid(9))
      assert.is(await store.access.destroySessionsOf('ada', { except: sid(2) }), 3)
      assert.equal(destroyed[1], { reason: 'destroySessionsOf', owner: 'ada', count: 3 })
      assert.is(await store.access.clear(), 1)
      assert.equal(destroyed[2], { reason: 'clear', count: 1 })
      assert.is(await store.access.clear(), 0)
      assert.is(destroyed.length, 3, 'a clear of nothing tells nothing')
      // The same through express-session's callbacks: the store's own set and destroy.
      await new Promise<void>((done, fail) => store.set(sid(7), day(), (e) => (e ? fail(e) : done())))
      await new Promise<void>((done, fail) => store.destroy(sid(7), (e) => (e ? fail(e) : done())))
      assert.equal(created.at(-1), { sid: sid(7) })
      assert.equal(destroyed.at(-1), { reason: 'destroy', sid: sid(7) })
      // A listener that throws: the save still succeeds; the error is thrown again outside it.
      const thrown: Array<unknown> = []
      const onUncaught = (e: unknown) => thrown.push(e)
      process.prependListener('uncaughtException', onUncaught)
      const bad = () => {
        throw new Error('a broken listener')
      }
      store.on('created', bad)
      try {
        assert.is(await store.access.set(sid(8), day()), 'written')
        await new Promise((r) => setTimeout(r, 20))
      } finally {
        store.off('created', bad)
        process.off('uncaughtException', onUncaught)
      }
      assert.is((thrown[0] as Error | undefined)?.message, 'a broken listener')
    } finally {
      await c.quit()
    }
  }
)

it.run()
lifecycle.run()
