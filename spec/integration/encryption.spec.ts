/**
 * Encryption at rest against a real redis-server on node-redis v6: no plaintext of a secret field leaves the
 * process. Two captures: node-redis's own diagnostics channels (`node-redis:command`, a TracingChannel whose
 * context has the command's arguments, sanitized by node-redis, and its reply; `node-redis:command:reply`),
 * and MONITOR on a second connection, which sees every argument as the server received it. The same run
 * with the plain JSON serializer shows the secret in both captures, so the captures do see values.
 */
import { randomBytes } from 'crypto'
import diagnostics from 'diagnostics_channel'
import type { SessionData } from 'express-session'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../../src/express/create-redis-store'
import { encryptedSerializer } from '../../src/serializer/encrypted'
import { jsonSerializer } from '../../src/serializer/json'
import type { Serializer } from '../../src/serializer/serializer'
import { startRedis, type RedisServer } from '../support/redis-server'

type Ctx = {
  server: RedisServer
  client: ReturnType<typeof createClient>
  monitor: ReturnType<typeof createClient>
  /** The MONITOR lines since the last reset (MONITOR is started once: a second MONITOR never answers). */
  lines: Array<string>
}

const it = suite<Ctx>('integration: encryption at rest, node-redis v6 diagnostics channel and MONITOR')

it.before(async (ctx) => {
  ctx.server = await startRedis()
  ctx.client = createClient({ url: ctx.server.url })
  ctx.monitor = createClient({ url: ctx.server.url })
  await Promise.all([ctx.client.connect(), ctx.monitor.connect()])
  ctx.lines = []
  await ctx.monitor.monitor((line: string) => ctx.lines.push(line))
})
it.after(async (ctx) => {
  ctx.client.destroy()
  ctx.monitor.destroy()
  await ctx.server.stop()
})

/** Everything a value can be turned into for the search: strings, Buffers, arrays, objects, nested. */
const texts = (u: unknown, out: Array<string> = []): Array<string> => {
  if (typeof u === 'string') out.push(u)
  else if (Buffer.isBuffer(u)) out.push(u.toString('utf8'), u.toString('latin1'))
  else if (Array.isArray(u)) for (const x of u) texts(x, out)
  else if (u instanceof Map) for (const [k, v] of u) texts([k, v], out)
  else if (typeof u === 'object' && u !== null) for (const v of Object.values(u)) texts(v, out)
  else if (u !== undefined && u !== null) out.push(String(u))
  return out
}

interface Captured {
  /** Every string seen on node-redis's diagnostics channels. */
  readonly diagnostics: Array<string>
  /** The MONITOR lines of the store's connection. */
  readonly monitor: Array<string>
  /** How many command events the diagnostics channels delivered. */
  readonly events: number
}

/** Runs set, touch, get, all, destroy and clear on a store using `serializer`, capturing what leaves. */
const exercise = async (ctx: Ctx, serializer: Serializer<SessionData>, secret: string): Promise<Captured> => {
  await ctx.client.flushAll()
  const captured = { diagnostics: [] as Array<string>, monitor: [] as Array<string>, events: 0 }
  const record = (message: unknown): void => {
    captured.events++
    captured.diagnostics.push(...texts(message))
  }
  const command = diagnostics.tracingChannel('node-redis:command')
  const handlers = { start: record, end: record, asyncStart: record, asyncEnd: record, error: record }
  command.subscribe(handlers)
  diagnostics.subscribe('node-redis:command:reply', record)
  ctx.lines = captured.monitor
  try {
    const store = createRedisStore(ctx.client, { serializer })
    const session = (extra: Record<string, unknown>) =>
      ({
        cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000), httpOnly: true, path: '/' },
        ...extra
      } as unknown as SessionData)
    assert.is(await store.access.set('a', session({ secret })), 'written')
    assert.is(await store.access.set('a', session({ secret, n: 2 })), 'written') // SET … GET replies the old value
    assert.is(await store.access.set('b', session({ secret })), 'written')
    assert.is(await store.access.touch('a', session({ secret })), true) // GETEX replies the value
    const got = (await store.access.get('a')) as unknown as { secret: string; n: number }
    assert.is(got.secret, secret)
    assert.is(got.n, 2)
    const all = (await store.access.all()) as unknown as Record<string, { secret: string }>
    assert.equal(Object.keys(all).sort(), ['a', 'b'])
    assert.is(all['b']?.secret, secret)
    assert.is(await store.access.destroy('a'), true)
    await store.access.clear()
    assert.is(await store.access.length(), 0)
    await new Promise((r) => setTimeout(r, 50)) // the last MONITOR lines
  } finally {
    command.unsubscribe(handlers)
    diagnostics.unsubscribe('node-redis:command:reply', record)
  }
  // The MONITOR connection's own MONITOR command is left out; every other line is the store's.
  return { ...captured, monitor: captured.monitor.filter((l) => !/"monitor"/i.test(l)) }
}

it('no plaintext of a secret field reaches node-redis (diagnostics channels) or the server (MONITOR)', async (ctx) => {
  const secret = `secret-${randomBytes(8).toString('hex')}`
  const serializer = encryptedSerializer({ keys: [{ id: 'k1', key: randomBytes(32) }] })
  const seen = await exercise(ctx, serializer, secret)
  assert.ok(seen.events > 20, `diagnostics events delivered: ${seen.events}`)
  assert.ok(seen.monitor.length >= 8, `MONITOR lines: ${seen.monitor.length}`)
  assert.ok(
    seen.monitor.some((l) => /"SET" "sessions:a" "v1\.k1\./i.test(l)),
    'SET carried an encrypted value'
  )
  assert.ok(
    seen.diagnostics.some((s) => s.startsWith('v1.k1.')),
    'the diagnostics channel carried the encrypted values (replies)'
  )
  assert.equal(
    seen.diagnostics.filter((s) => s.includes(secret)),
    [],
    'diagnostics channel'
  )
  assert.equal(
    seen.monitor.filter((l) => l.includes(secret)),
    [],
    'MONITOR'
  )
})

it('control: with the plain JSON serializer both captures see the secret', async (ctx) => {
  const secret = `secret-${randomBytes(8).toString('hex')}`
  const seen = await exercise(ctx, jsonSerializer, secret)
  assert.ok(
    seen.diagnostics.some((s) => s.includes(secret)),
    'diagnostics channel (GET/GETEX/MGET replies)'
  )
  assert.ok(
    seen.monitor.some((l) => l.includes(secret)),
    'MONITOR (the SET value)'
  )
})

it.run()
