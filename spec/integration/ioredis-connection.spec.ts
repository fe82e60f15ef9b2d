// The ioredis adapter's connection against a real redis-server that goes away and comes back: the store's
// connect/disconnect events (whenDisconnected 'bypass'), 'fail' while down, and "closed" right after quit(). On
// ioredis 5 and 6, with the same options.
import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import type session from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fromIoRedis } from '../../src/ioredis'
import { createRedisStore } from '../../src/express/create-redis-store'
import { IOREDIS_MAJORS, type IoRedisInstance } from '../support/ioredis'
import { freePort, launchRedis, type Launched } from '../support/redis-server'

interface Outage {
  port: number
  dir: string
  server: Launched
  client: IoRedisInstance
}

const until = async (what: string, ok: () => boolean, ms = 10_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

for (const { name, Redis } of IOREDIS_MAJORS) {
  const outage = suite<Outage>(`fromIoRedis with a real ${name} client: redis-server stopped and started again`)
  outage.before(async (ctx) => {
    ctx.port = await freePort()
    ctx.dir = mkdtempSync(join(tmpdir(), 'crs-ioredis-'))
    ctx.server = await launchRedis(ctx.port, ctx.dir)
    ctx.client = new Redis({ host: '127.0.0.1', port: ctx.port, lazyConnect: true, retryStrategy: () => 50 })
    ctx.client.on('error', () => undefined) // refused reconnects while the server is down
    await ctx.client.connect()
  })
  outage.after(async (ctx) => {
    ctx.client.disconnect()
    if (ctx.server.child.exitCode === null && ctx.server.child.signalCode === null) ctx.server.child.kill('SIGTERM')
    await ctx.server.exited
    rmSync(ctx.dir, { recursive: true, force: true })
  })

  outage('disconnect / connect events, whenDisconnected fail while down, closed after quit()', async (ctx) => {
    const events: Array<string> = []
    const bypass = createRedisStore(fromIoRedis(ctx.client), { whenDisconnected: 'bypass', checkEvictionPolicy: false })
    bypass.on('disconnect', () => events.push('disconnect'))
    bypass.on('connect', () => events.push('connect'))
    const failing = createRedisStore(fromIoRedis(ctx.client), { whenDisconnected: 'fail', checkEvictionPolicy: false })
    const sess = { cookie: { originalMaxAge: null, expires: null } } as unknown as session.SessionData
    assert.is(await failing.access.set('a', sess), 'written')

    ctx.server.child.kill('SIGTERM')
    await ctx.server.exited
    await until('disconnect', () => events.includes('disconnect'))
    assert.is(fromIoRedis(ctx.client).connection.isReady(), false)
    assert.is(fromIoRedis(ctx.client).connection.isClosed(), false, 'reconnecting is not closed')
    const err = await failing.access.get('a').then(
      () => undefined,
      (e: Error & { code?: string }) => e
    )
    assert.is(err?.code, 'ESESSION_UNAVAILABLE')

    ctx.server = await launchRedis(ctx.port, ctx.dir)
    await until('connect', () => events.includes('connect'))
    assert.equal(events, ['disconnect', 'connect'], 'one event per change of state')
    assert.is(await failing.access.set('b', sess), 'written')

    await ctx.client.quit()
    assert.equal(
      [fromIoRedis(ctx.client).connection.isReady(), fromIoRedis(ctx.client).connection.isClosed()],
      [false, true],
      'closed as soon as quit() has answered'
    )
    await until('disconnect after quit', () => events.length === 3)
    assert.equal(events, ['disconnect', 'connect', 'disconnect'])
    void bypass // referenced to the end: the connection holds its stores weakly, and a collected store hears nothing
  })

  outage.run()
}
