// waitReplicas against a real primary and replica: a logout answers once the replica holds the tombstone;
// with the replica stopped (SIGSTOP) it fails with ESESSION_NOT_REPLICATED after waitTimeoutMs, and the
// primary still holds the tombstone. On node-redis v6, ioredis 5 and 6, and Valkey GLIDE.
import type session from 'express-session'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../../src'
import type { SessionStoreError } from '../../src/express/to-error'
import { fromIoRedis } from '../../src/ioredis'
import { IOREDIS_MAJORS } from '../support/ioredis'
import { glideClient } from '../support/glide'
import { fromValkeyGlide } from '../../src/valkey-glide'
import type { GlideClient } from '@valkey/valkey-glide'
import { startRedis, type RedisServer } from '../support/redis-server'

interface Ctx {
  primary: RedisServer
  replica: RedisServer
}

const it = suite<Ctx>('waitReplicas: logouts confirmed by a replica')

const info = async (url: string, section: string): Promise<string> => {
  const c = createClient({ url })
  await c.connect()
  try {
    return await c.info(section)
  } finally {
    await c.close()
  }
}

const typeOn = async (url: string, key: string): Promise<string> => {
  const c = createClient({ url })
  await c.connect()
  try {
    return await c.type(key)
  } finally {
    await c.close()
  }
}

it.before(async (ctx) => {
  ctx.primary = await startRedis()
  ctx.replica = await startRedis(['--replicaof', '127.0.0.1', String(ctx.primary.port)])
  const deadline = Date.now() + 10_000
  while (!/master_link_status:up/.test(await info(ctx.replica.url, 'replication'))) {
    if (Date.now() > deadline) throw new Error('the replica did not link to the primary')
    await new Promise((r) => setTimeout(r, 50))
  }
})
it.after(async (ctx) => {
  process.kill(ctx.replica.pid, 'SIGCONT')
  await ctx.replica.stop()
  await ctx.primary.stop()
})

const sess = {
  cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 3_600_000) }
} as unknown as session.SessionData

const families = [
  [
    'node-redis v6',
    (url: string) => {
      const c = createClient({ url })
      c.on('error', () => undefined)
      return {
        store: (o: object) => createRedisStore(c, o),
        open: () => c.connect().then(() => undefined),
        close: () => c.close()
      }
    }
  ],
  ...IOREDIS_MAJORS.map(
    ({ name, Redis }) =>
      [
        name,
        (url: string) => {
          const c = new Redis(url, { lazyConnect: true })
          c.on('error', () => undefined)
          return {
            store: (o: object) => createRedisStore(fromIoRedis(c), o),
            open: () => c.connect(),
            close: () => c.quit().then(() => undefined)
          }
        }
      ] as const
  ),
  [
    'Valkey GLIDE',
    (url: string) => {
      // GLIDE connects in createClient: the client is made by open(), before any store is built.
      let glide: GlideClient | undefined
      return {
        store: (o: object) => createRedisStore(fromValkeyGlide(glide as GlideClient), o),
        open: async () => void (glide = await glideClient(url)),
        close: async () => glide?.close()
      }
    }
  ] as const
] as const

for (const [name, make] of families) {
  it(`${name}: confirmed while the replica follows; ESESSION_NOT_REPLICATED while it is stopped`, async (ctx) => {
    const prefix = `w${name.replace(/\W+/g, '')}:` // one per client on the shared primary
    const client = make(ctx.primary.url)
    await client.open()
    try {
      const store = client.store({
        waitReplicas: 1,
        waitTimeoutMs: 300,
        prefix,
        checkEvictionPolicy: false
      })
      await store.access.set('a', sess)
      assert.is(await store.access.destroy('a'), true)
      assert.is(
        await typeOn(ctx.replica.url, `${prefix}a`),
        'hash',
        'the replica holds the tombstone when destroy answers'
      )

      await store.access.set('b', sess)
      process.kill(ctx.replica.pid, 'SIGSTOP')
      const t0 = Date.now()
      const err = await store.access.destroy('b').then(
        () => null,
        (e: SessionStoreError) => e
      )
      const ms = Date.now() - t0
      process.kill(ctx.replica.pid, 'SIGCONT')
      assert.is(err?.code, 'ESESSION_NOT_REPLICATED')
      assert.match(err?.message ?? '', /0 of 1 replicas confirmed it within 300 ms/)
      assert.ok(ms >= 290 && ms < 1500, `failed after ${ms} ms`)
      assert.is(await typeOn(ctx.primary.url, `${prefix}b`), 'hash', 'the primary holds the tombstone all the same')
      console.log(`  [replicas] ${name}: unconfirmed logout reported after ${ms} ms`)
    } finally {
      await client.close()
    }
  })
}

it.run()
