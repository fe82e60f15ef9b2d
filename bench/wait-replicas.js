'use strict'
// The price of `waitReplicas`: logout (destroy) latency and throughput on a primary with one replica, the
// same store with waitReplicas 0 and 1, interleaved rounds. One logout at a time gives the latency a user
// waits for; 64 in flight gives the throughput of a busy server.
const { spawn } = require('child_process')
const { mkdtempSync, rmSync } = require('fs')
const os = require('os')
const path = require('path')
const { createClient } = require('redis')
const { createRedisStore } = require('../dist')
const { freePort, waitForPort, median, typicalSession, throughput } = require('./lib')

const startNode = async (extra) => {
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crs-bench-wait-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  const child = spawn('redis-server', [...args, '--repl-diskless-sync-delay', '0', ...extra], { stdio: 'ignore' })
  const exited = new Promise((r) => child.once('exit', r))
  process.on('exit', () => child.kill('SIGKILL'))
  await waitForPort(port)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

const runWaitReplicas = async ({ rounds, n, inFlight, log }) => {
  const primary = await startNode([])
  const replica = await startNode(['--replicaof', '127.0.0.1', String(primary.port)])
  const client = await createClient({ url: primary.url }).connect()
  try {
    // The replica must follow (synced, and acknowledging writes) before WAIT can be answered.
    for (let t = Date.now(); ; ) {
      await client.set('bench:probe', '1')
      if (Number(await client.sendCommand(['WAIT', '1', '100'])) === 1) break
      if (Date.now() - t > 10000) throw new Error('the replica did not follow the primary within 10 s')
    }
    const stores = {
      'waitReplicas 0': createRedisStore(client, { prefix: 'w0:' }),
      'waitReplicas 1': createRedisStore(client, { prefix: 'w1:', waitReplicas: 1, waitTimeoutMs: 500 })
    }
    const session = typicalSession(1)
    const samples = {}
    for (let r = 0; r < rounds; r++) {
      const names = Object.keys(stores)
      for (const name of r % 2 ? names.reverse() : names) {
        const store = stores[name].access
        // Latency: login then logout, one user at a time; only the logout is timed.
        const ms = []
        for (let i = 0; i < n / 10; i++) {
          await store.set(`s${i}`, session)
          const t0 = process.hrtime.bigint()
          await store.destroy(`s${i}`)
          ms.push(Number(process.hrtime.bigint() - t0) / 1e6)
        }
        // Throughput: logouts with `inFlight` in flight (each session written just before).
        const ops = await throughput(n, inFlight, async (i) => {
          await store.set(`t${i}`, session)
          await store.destroy(`t${i}`)
        })
        const s = (samples[name] ??= { p50: [], p99: [], opsPerSec: [] })
        s.p50.push(percentile(ms, 50))
        s.p99.push(percentile(ms, 99))
        s.opsPerSec.push(ops)
        await client.flushAll()
      }
      log(`  waitReplicas round ${r + 1}/${rounds} done`)
    }
    return Object.fromEntries(
      Object.entries(samples).map(([k, v]) => [
        k,
        { p50Ms: median(v.p50), p99Ms: median(v.p99), loginLogoutPairsPerSec: median(v.opsPerSec) }
      ])
    )
  } finally {
    await client.close()
    await replica.stop()
    await primary.stop()
  }
}

module.exports = { runWaitReplicas }
