/**
 * Fault 7: a Redis that may evict keys. An evicted tombstone no longer protects its session, so a new store
 * reads `maxmemory-policy` (INFO memory) and emits a `warning` naming the policy when it is not `noeviction`.
 *
 * Oracles: `allkeys-lru` and `volatile-ttl` → one warning naming the policy, also for a store built before
 * `client.connect()` (the check waits for `ready`); `noeviction` → none; `checkEvictionPolicy: false` → none.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from 'redis'
import { createRedisStore, type StoreOptions } from '../../src'
import { faultsEnabled, report, sleep, spawnRedis } from './support'

/** The warnings a new store emits within its first moments, on a server started with `policy`. */
const warningsFor = async (
  policy: string,
  options: StoreOptions = {},
  buildBeforeConnect = false
): Promise<Array<string>> => {
  const server = await spawnRedis({ args: ['--maxmemory-policy', policy] })
  const client = createClient({ url: server.url, socket: { reconnectStrategy: false } })
  client.on('error', () => undefined)
  try {
    const warnings: Array<string> = []
    // Referenced to the end: the check holds a store built before connect() weakly, and a collected one hears nothing.
    const stores: Array<unknown> = []
    const build = (): void => {
      stores.push(createRedisStore(client, options).on('warning', (m: string) => warnings.push(m)))
    }
    if (buildBeforeConnect) build()
    await client.connect()
    if (!buildBeforeConnect) build()
    await client.ping() // ordered after the store's INFO
    await sleep(20)
    void stores
    return warnings
  } finally {
    client.destroy()
    await server.stop()
  }
}

const test = suite('fault: eviction policy warning')

if (faultsEnabled) {
  test('allkeys-lru / volatile-ttl: a warning naming the policy; noeviction and checkEvictionPolicy: false: none', async () => {
    const lru = await warningsFor('allkeys-lru')
    const ttlBeforeConnect = await warningsFor('volatile-ttl', {}, true)
    const safe = await warningsFor('noeviction')
    const off = await warningsFor('allkeys-lru', { checkEvictionPolicy: false })
    report('eviction-policy warning', {
      allkeysLru: lru.length,
      volatileTtlBuiltBeforeConnect: ttlBeforeConnect.length,
      noeviction: safe.length,
      checkOff: off.length,
      message: JSON.stringify((lru[0] ?? '').slice(0, 80))
    })
    assert.is(lru.length, 1)
    assert.match(lru[0] ?? '', /allkeys-lru/)
    assert.is(ttlBeforeConnect.length, 1, 'a store built before connect() checks once the client is ready')
    assert.match(ttlBeforeConnect[0] ?? '', /volatile-ttl/)
    assert.equal(safe, [])
    assert.equal(off, [])
  })

  test.run()
}
