#!/usr/bin/env node
'use strict'
// `npm run bench`: this store, connect-redis and raw node-redis side by side in one run against one local
// Redis (started here, or REDIS_URL), and this store on ioredis 5, ioredis 6 and Valkey GLIDE against each
// client's raw commands in the same single-key rounds. Prints the tables and writes bench/results.json.
// `npm run bench -- --quick`: a smoke run of a few seconds (CI may call it; timings are never checked).
// `npm run bench -- --against <git ref> [--quick]`: an A/B of this tree against that ref instead (bench/against.js).
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync } = require('child_process')
const { createClient } = require('redis')
const { RedisStore: ConnectRedisStore } = require('connect-redis')
const { createRedisStore } = require('../dist')
const { startRedis, typicalSession, table, fmt, ratio } = require('./lib')
const { runSingleKey, OTHER_CLIENTS } = require('./single-key')
const { runEncryption, encryptionTable } = require('./encryption')
const { runBatched } = require('./batched')
const { runHttp } = require('./http')
const { runWaitReplicas } = require('./wait-replicas')
const { runCluster, clusterTable } = require('./cluster')
const { runConcurrentSaves, concurrentSavesRows } = require('./concurrent-saves')

const quick = process.argv.includes('--quick')
const plan = quick
  ? {
      single: { rounds: 1, n: 2000, inFlight: 64 },
      encryption: { rounds: 1, n: 2000, inFlight: 64 },
      batched: { rounds: 1, sessions: 2000 },
      http: { rounds: 1, seconds: 1, connections: 64 },
      waitReplicas: { rounds: 1, n: 500, inFlight: 64 },
      concurrentSaves: { rounds: 1, n: 2000, inFlight: 64 },
      cluster: { rounds: 1, sessions: 1000 }
    }
  : {
      single: { rounds: 9, n: 20000, inFlight: 64 },
      encryption: { rounds: 9, n: 20000, inFlight: 64 },
      batched: { rounds: 3, sessions: 100000 },
      http: { rounds: 3, seconds: 3, connections: 64 },
      waitReplicas: { rounds: 3, n: 5000, inFlight: 64 },
      concurrentSaves: { rounds: 7, n: 2000, inFlight: 64 },
      cluster: { rounds: 3, sessions: 100000 }
    }
const log = (m) => process.stderr.write(m + '\n')

const storedBytes = async (url) => {
  const [a, b] = await Promise.all([0, 1].map(() => createClient({ url }).connect()))
  const ours = createRedisStore(a) // default prefix 'sessions:'
  const cr = new ConnectRedisStore({ client: b }) // default prefix 'sess:'
  const sid = 'Xq3vR8yL2nK7pW4tZ9cF1hJ6mB5dG0sA' // express-session ids are 32 characters
  const sess = typicalSession(7)
  await ours.access.set(sid, sess)
  await new Promise((r, j) => cr.set(sid, sess, (e) => (e ? j(e) : r())))
  const usage = async (key) => Number(await a.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']))
  const result = {
    ours: {
      key: `sessions:${sid}`,
      bytes: await usage(`sessions:${sid}`),
      valueLength: (await a.get(`sessions:${sid}`)).length
    },
    'connect-redis': {
      key: `sess:${sid}`,
      bytes: await usage(`sess:${sid}`),
      valueLength: (await a.get(`sess:${sid}`)).length
    }
  }
  await Promise.all([a.close(), b.close()])
  return result
}

const versions = (url) => {
  const v = (name) =>
    JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')).version
  let server = 'unknown'
  try {
    server = /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))[1]
  } catch {}
  return {
    node: process.version,
    redisServer: server,
    redis: v('redis'),
    ioredis: v('ioredis'),
    ioredis6: v('ioredis-6'),
    glide: v('@valkey/valkey-glide'),
    connectRedis: v('connect-redis'),
    express: v('express'),
    expressSession: v('express-session'),
    redisUrl: url.replace(/\/\/.*@/, '//')
  }
}

;(async () => {
  if (process.argv.includes('--against')) return require('./against').runAgainst(process.argv)
  const t0 = Date.now()
  const redis = await startRedis()
  try {
    log(`redis at ${redis.url}${quick ? ' (quick run)' : ''}`)
    const single = await runSingleKey({ url: redis.url, ...plan.single, log })
    const encryption = await runEncryption({ url: redis.url, ...plan.encryption, log })
    const batched = await runBatched({ url: redis.url, ...plan.batched, log })
    const httpResult = await runHttp({ url: redis.url, ...plan.http, log })
    const waitReplicas = await runWaitReplicas({ ...plan.waitReplicas, log })
    const concurrentSaves = await runConcurrentSaves({ url: redis.url, ...plan.concurrentSaves, log })
    const bytes = await storedBytes(redis.url)
    const cluster = await runCluster({ ...plan.cluster, log })
    const results = {
      date: new Date().toISOString(),
      quick,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        memoryGB: Math.round(os.totalmem() / 2 ** 30),
        platform: `${os.type()} ${os.release()}`
      },
      versions: versions(redis.url),
      plan,
      single,
      encryption,
      batched,
      http: httpResult,
      waitReplicas,
      concurrentSaves,
      storedBytes: bytes,
      cluster,
      seconds: (Date.now() - t0) / 1000
    }
    const out = []
    out.push(
      `connect-redis-session benchmark — ${results.date}${quick ? ' (QUICK: smoke run, numbers not meaningful)' : ''}`
    )
    out.push(
      `${results.machine.cpus} cores (${results.machine.cpuModel}), Node ${results.versions.node}, redis-server ${results.versions.redisServer}, node-redis ${results.versions.redis}, ioredis ${results.versions.ioredis}, connect-redis ${results.versions.connectRedis}, express ${results.versions.express}, express-session ${results.versions.expressSession}`
    )
    out.push('')
    out.push(
      `Single-key, ops/s through the express-session callback API (${plan.single.inFlight} in flight, ${plan.single.n} ops, median of ${plan.single.rounds} interleaved rounds)`
    )
    out.push(
      table(
        ['op', 'ours', 'connect-redis', 'raw', 'ours/raw', 'ours/cr', 'cr/raw'],
        Object.entries(single).map(([op, v]) => [
          op,
          fmt(v.ours.opsPerSec),
          fmt(v['connect-redis'].opsPerSec),
          fmt(v.raw.opsPerSec),
          ratio(v.ours.opsPerSec, v.raw.opsPerSec),
          ratio(v.ours.opsPerSec, v['connect-redis'].opsPerSec),
          ratio(v['connect-redis'].opsPerSec, v.raw.opsPerSec)
        ])
      )
    )
    out.push('')
    out.push(
      `Single-key by client, ops/s, same rounds as above: ours = this store on that client, raw = the same GET/SET EX/EXPIRE/DEL + JSON on it (ioredis ${results.versions.ioredis}, ioredis ${results.versions.ioredis6}, Valkey GLIDE ${results.versions.glide})`
    )
    out.push(
      table(
        ['op', 'client', 'ours', 'raw', 'ours/raw', 'ours/ours on node-redis'],
        Object.entries(single).flatMap(([op, v]) => [
          [
            op,
            'node-redis',
            fmt(v.ours.opsPerSec),
            fmt(v.raw.opsPerSec),
            ratio(v.ours.opsPerSec, v.raw.opsPerSec),
            '1.00'
          ],
          ...OTHER_CLIENTS.map(([name, shown]) => [
            op,
            shown,
            fmt(v[`ours-${name}`].opsPerSec),
            fmt(v[`raw-${name}`].opsPerSec),
            ratio(v[`ours-${name}`].opsPerSec, v[`raw-${name}`].opsPerSec),
            ratio(v[`ours-${name}`].opsPerSec, v.ours.opsPerSec)
          ])
        ])
      )
    )
    out.push('')
    out.push(...encryptionTable(plan.encryption, encryption, { table, fmt, ratio }))
    out.push('')
    out.push(
      `Batched over ${fmt(
        plan.batched.sessions
      )} sessions (beside as many of the other store's), wall ms and peak extra heap MB, median of ${
        plan.batched.rounds
      } rounds`
    )
    out.push(
      table(
        ['op', 'ours ms', 'cr ms', 'speed-up', 'ours heap', 'cr heap'],
        Object.entries(batched).map(([op, v]) => [
          op,
          fmt(v.ours.ms),
          v['connect-redis'] ? fmt(v['connect-redis'].ms) : '—',
          v['connect-redis'] ? ratio(v['connect-redis'].ms, v.ours.ms) + '×' : '—',
          fmt(v.ours.peakHeapMB, 1),
          v['connect-redis'] ? fmt(v['connect-redis'].peakHeapMB, 1) : '—'
        ])
      )
    )
    out.push('')
    out.push(
      `HTTP, req/s: Express ${results.versions.express} + express-session, autocannon -c ${plan.http.connections} -d ${plan.http.seconds} in another process, median of ${plan.http.rounds} rounds`
    )
    out.push(
      table(
        ['route', 'MemoryStore', 'connect-redis', 'ours', 'ours lazy (60 s)', 'ours/cr', 'lazy/cr'],
        Object.entries(httpResult).map(([route, v]) => [
          route,
          fmt(v.memory.rps),
          fmt(v['connect-redis'].rps),
          fmt(v.ours.rps),
          fmt(v['ours-lazy'].rps),
          ratio(v.ours.rps, v['connect-redis'].rps),
          ratio(v['ours-lazy'].rps, v['connect-redis'].rps)
        ])
      )
    )
    out.push('')
    out.push(
      `Logout (destroy) on a primary with one replica: latency one at a time (${
        plan.waitReplicas.n / 10
      } logouts) and login + logout pairs/s with ${plan.waitReplicas.inFlight} in flight, median of ${
        plan.waitReplicas.rounds
      } rounds`
    )
    out.push(
      table(
        ['store', 'p50 ms', 'p99 ms', 'pairs/s'],
        Object.entries(waitReplicas).map(([k, v]) => [
          k,
          fmt(v.p50Ms, 3),
          fmt(v.p99Ms, 3),
          fmt(v.loginLogoutPairsPerSec)
        ])
      )
    )
    out.push('')
    out.push(
      `A save of a session the store handed out, per concurrentSaves mode (${plan.concurrentSaves.inFlight} in flight, ` +
        `${plan.concurrentSaves.n} saves, median of ${plan.concurrentSaves.rounds} interleaved rounds; CPU per save)`
    )
    out.push(
      table(['case', 'mode', 'saves/s', 'client µs/save', 'Redis µs/save'], concurrentSavesRows(concurrentSaves))
    )
    out.push('')
    out.push('Stored bytes per typical session (MEMORY USAGE, default prefixes, 32-character id)')
    out.push(
      table(
        ['store', 'key', 'bytes', 'value length'],
        Object.entries(bytes).map(([k, v]) => [k, v.key, fmt(v.bytes), fmt(v.valueLength)])
      )
    )
    out.push('')
    out.push(...clusterTable(cluster, { table, fmt, ratio }))
    out.push('')
    out.push(`Finished in ${results.seconds.toFixed(0)} s.`)
    console.log(out.join('\n'))
    // A quick run must not overwrite the record of the last full run.
    fs.writeFileSync(
      path.join(__dirname, quick ? 'results.quick.json' : 'results.json'),
      JSON.stringify(results, null, 2) + '\n'
    )
  } finally {
    await redis.stop()
  }
})().catch((e) => {
  console.error(e)
  process.exit(1)
})
