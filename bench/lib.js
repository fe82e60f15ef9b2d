'use strict'
// Shared pieces of the benchmark: a throwaway redis-server, timing helpers, a typical session.
const { spawn } = require('child_process')
const { mkdtempSync, rmSync } = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })

const waitForPort = async (port, ms = 10000) => {
  const deadline = Date.now() + ms
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => (s.end(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Starts redis-server on a free loopback port (or uses REDIS_URL); returns { url, stop }. */
const startRedis = async () => {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, external: true, stop: async () => {} }
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crs-bench-'))
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'ignore', 'inherit']
    }
  )
  child.on('error', (e) => {
    console.error(
      `cannot start redis-server (${e.message}): install it (apt-get install redis-server) or set REDIS_URL`
    )
    process.exit(1)
  })
  const exited = new Promise((r) => child.once('exit', r))
  process.on('exit', () => child.kill('SIGKILL'))
  await waitForPort(port)
  return {
    url: `redis://127.0.0.1:${port}`,
    external: false,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** A typical logged-in session as express-session hands it to a store (cookie with a Date). */
const typicalSession = (i = 0) => ({
  cookie: {
    originalMaxAge: 86400000,
    expires: new Date(Date.now() + 86400000),
    secure: false,
    httpOnly: true,
    domain: undefined,
    path: '/',
    sameSite: 'lax'
  },
  user: { id: 10000 + i, name: `user${i}`, email: `user${i}@example.com`, roles: ['reader', 'writer'] },
  csrfSecret: 'Zx8QhV3mT6pL1sR9wK2yB7nC',
  flash: {},
  views: i % 17
})

/** Runs `n` calls of `op(i)` with `inFlight` in flight; returns operations per second. */
const throughput = async (n, inFlight, op) => {
  let next = 0
  const t0 = process.hrtime.bigint()
  const worker = async () => {
    while (next < n) await op(next++)
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  return n / s
}

/** Runs `fn`, sampling heap every 5 ms; returns { ms, peakHeapMB } (peak above the heap before the call). */
const measureHeap = async (fn) => {
  if (global.gc) global.gc()
  const base = process.memoryUsage().heapUsed
  let peak = base
  const timer = setInterval(() => {
    const h = process.memoryUsage().heapUsed
    if (h > peak) peak = h
  }, 5)
  const t0 = process.hrtime.bigint()
  let result
  try {
    result = await fn()
  } finally {
    // A rejection (a cell that fails, e.g. with CROSSSLOT) must not leave the sampler running.
    clearInterval(timer)
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  const h = process.memoryUsage().heapUsed
  if (h > peak) peak = h
  return { ms, peakHeapMB: (peak - base) / 1048576, result }
}

/**
 * Interleaved rounds of `throughput` over `impls` ({ op: { name: (i) => Promise } }): a warm-up of every impl,
 * then `rounds` rounds in which each op is `seed()`ed again and its impls run in an order that rotates each
 * round. Returns { op: { name: { opsPerSec (median), samples, cpuUsPerOp (median), cpuSamples } } }: the
 * client's CPU (user + system of this process) per op, in µs, is measured around the same samples; with
 * `serverCpu` (an async function answering Redis's CPU seconds, from `INFO cpu`) also `serverUsPerOp`.
 */
const interleavedThroughput = async ({ impls, rounds, n, inFlight, seed, log, label, serverCpu }) => {
  await seed() // warm up: load scripts, JIT
  for (const op of Object.keys(impls))
    for (const impl of Object.values(impls[op])) await throughput(2000, inFlight, impl)
  const samples = {}
  const cpu = {}
  const server = {}
  for (let r = 0; r < rounds; r++) {
    for (const op of Object.keys(impls)) {
      await seed()
      const names = Object.keys(impls[op])
      const order = names.map((_, k) => names[(k + r) % names.length]) // rotate who goes first
      for (const name of order) {
        const s0 = serverCpu === undefined ? 0 : await serverCpu()
        const c0 = process.cpuUsage()
        const opsPerSec = await throughput(n, inFlight, impls[op][name])
        const c = process.cpuUsage(c0)
        ;((samples[op] ??= {})[name] ??= []).push(opsPerSec)
        ;((cpu[op] ??= {})[name] ??= []).push((c.user + c.system) / n)
        if (serverCpu !== undefined) ((server[op] ??= {})[name] ??= []).push((((await serverCpu()) - s0) * 1e6) / n)
      }
    }
    log(`  ${label} round ${r + 1}/${rounds} done`)
  }
  return Object.fromEntries(
    Object.entries(samples).map(([op, byImpl]) => [
      op,
      Object.fromEntries(
        Object.entries(byImpl).map(([k, v]) => [
          k,
          {
            opsPerSec: median(v),
            samples: v,
            cpuUsPerOp: median(cpu[op][k]),
            cpuSamples: cpu[op][k],
            ...(serverCpu === undefined ? {} : { serverUsPerOp: median(server[op][k]) })
          }
        ])
      )
    ])
  )
}

/** A number for a table: thousands separated, `d` decimals. */
const fmt = (n, d = 0) =>
  typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : String(n)
/** `a / b` with two decimals. */
const ratio = (a, b) => (a / b).toFixed(2)
/** A plain-text table: the first column left-aligned, the others right-aligned, a rule under the head. */
const table = (head, rows) => {
  const cells = [head, ...rows].map((r) => r.map(String))
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)))
  return cells
    .map(
      (r, k) =>
        r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ') +
        (k === 0 ? '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : '')
    )
    .join('\n')
}

module.exports = {
  table,
  fmt,
  ratio,
  freePort,
  waitForPort,
  startRedis,
  median,
  typicalSession,
  throughput,
  interleavedThroughput,
  measureHeap
}
