// Stores that are dropped are freed: 20,000 stores built on one long-lived client and dropped must leave less
// than 20 MB of heap behind, whatever the client (node-redis before and after connect() to a real
// redis-server, ioredis before connect, the memory client up or down) and whatever the options
// (whenDisconnected: 'bypass', the eviction-policy check on). Each case runs in a child `node --expose-gc`
// (spec/support/dropped-stores.ts), which forces the collections; the numbers go on one `[memory]` line.
import { execFile } from 'child_process'
import { join } from 'path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { DroppedStoresReport } from '../support/dropped-stores'
import { startRedis, type RedisServer } from '../support/redis-server'

const STORES = 20_000
const LIMIT_BYTES = 20 * 1024 * 1024

const measure = (client: string, options: string, url: string): Promise<DroppedStoresReport> =>
  new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--expose-gc', join(__dirname, '..', 'support', 'dropped-stores.js'), client, options, String(STORES), url],
      { timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error !== null) return reject(new Error(`${client} ${options}: ${error.message}\n${stderr}`))
        const last = stdout.trim().split('\n').pop() ?? ''
        try {
          resolve(JSON.parse(last) as DroppedStoresReport)
        } catch {
          reject(new Error(`${client} ${options}: no report in ${JSON.stringify(stdout)}\n${stderr}`))
        }
      }
    )
  )

const CASES: ReadonlyArray<readonly [client: string, options: string]> = [
  ['node-redis', 'default'],
  ['node-redis', 'bypass'],
  ['node-redis-connected', 'default'],
  ['node-redis-connected', 'bypass'],
  ['ioredis', 'bypass'],
  ['memory', 'default'],
  ['memory', 'bypass'],
  ['memory-down', 'default']
]

const it = suite<{ redis: RedisServer | undefined }>('dropped stores are freed', { redis: undefined })

it.before(async (ctx) => {
  ctx.redis = await startRedis()
})

it.after(async (ctx) => {
  await ctx.redis?.stop()
})

it(`${STORES} stores built on one client and dropped keep < 20 MB of heap, for every client and option`, async (ctx) => {
  const url = ctx.redis?.url ?? ''
  const reports: Array<DroppedStoresReport> = []
  // One child at a time: the machine's cores are shared, and each child forces full collections.
  for (const [client, options] of CASES) reports.push(await measure(client, options, url))
  console.log(
    `[memory] ${STORES} dropped stores retain: ${reports
      .map(
        (r) =>
          `${r.client}/${r.options} ${(r.retainedBytes / 1024 / 1024).toFixed(2)} MB (a store: ${r.buildMicros.toFixed(
            1
          )} µs to build, ${(r.keptBytes / 1024).toFixed(1)} KB kept)`
      )
      .join(', ')}`
  )
  for (const r of reports)
    assert.ok(
      r.retainedBytes < LIMIT_BYTES,
      `${r.client} with ${r.options} options: ${STORES} dropped stores retain ${(r.retainedBytes / 1024 / 1024).toFixed(
        1
      )} MB`
    )
})

it.run()
