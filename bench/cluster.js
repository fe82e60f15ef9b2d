'use strict'
// Batched operations on a 3-master Redis Cluster (started here on loopback ports, no replicas): length, all and
// clear over many stored sessions — this store on a node-redis v6 cluster client and on an ioredis Cluster, against
// connect-redis on node-redis v6 and v5 cluster clients. connect-redis's all/clear send one MGET / DEL with every
// key: node-redis 6.3 splits those by slot itself, v5 sends them as they are and Redis refuses them (CROSSSLOT,
// tj/connect-redis#360): such a cell names the error instead of a time.
const { spawn, execFile } = require('child_process')
const { mkdtempSync, rmSync } = require('fs')
const os = require('os')
const path = require('path')
const { createClient, createCluster } = require('redis')
const { createCluster: createCluster5 } = require('redis-5')
const { Cluster } = require('ioredis')
const { RedisStore: ConnectRedisStore } = require('connect-redis')
const { createRedisStore } = require('../dist')
const { fromIoRedisCluster } = require('../dist/ioredis')
const { freePort, waitForPort, median, typicalSession, measureHeap } = require('./lib')

const MASTERS = 3

const run = (cmd, args) =>
  new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 20000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)
    )
  )

const clusterInfo = async (port) => {
  const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } })
  c.on('error', () => {})
  await c.connect()
  try {
    return String(await c.sendCommand(['CLUSTER', 'INFO']))
  } finally {
    c.destroy()
  }
}

/** Starts 3 cluster-enabled redis-servers, joins them with redis-cli --cluster create; returns { rootNodes, stop }. */
const startCluster = async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crs-bench-cluster-'))
  const ports = []
  while (ports.length < MASTERS) {
    const p = await freePort()
    if (!ports.includes(p)) ports.push(p)
  }
  const children = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        path.join(dir, `nodes-${port}.conf`)
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] }
    )
  )
  const exits = children.map((child) => new Promise((r) => child.once('exit', r)))
  const killAll = () => children.forEach((child) => child.kill('SIGKILL'))
  process.on('exit', killAll)
  const stop = async () => {
    children.forEach((child) => child.kill('SIGTERM'))
    await Promise.all(exits)
    process.off('exit', killAll)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await Promise.all(ports.map((p) => waitForPort(p)))
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'])
    const deadline = Date.now() + 20000
    for (;;) {
      const infos = await Promise.all(ports.map(clusterInfo))
      if (infos.every((i) => /cluster_state:ok/.test(i) && /cluster_slots_ok:16384/.test(i))) break
      if (Date.now() > deadline) throw new Error('the bench cluster did not become ready in 20 s')
      await new Promise((r) => setTimeout(r, 50))
    }
    return { rootNodes: ports.map((p) => ({ url: `redis://127.0.0.1:${p}` })), ports, stop }
  } catch (e) {
    await stop()
    throw e
  }
}

/** SETs `count` sessions under `prefix`, 2,000 at a time (the cluster client pipelines them per node). */
const populate = async (cluster, prefix, count) => {
  const json = JSON.stringify(typicalSession(1))
  for (let i = 0; i < count; i += 2000) {
    const batch = []
    for (let j = i; j < Math.min(count, i + 2000); j++) batch.push(cluster.set(`${prefix}sid${j}`, json, { EX: 86400 }))
    await Promise.all(batch)
  }
}

/** The error of a failed cell, short: its first word when it is a Redis error code (CROSSSLOT…), else its class. */
const errorCell = (e) => {
  const message = e instanceof Error ? e.message : String(e)
  const code = /^([A-Z]{3,})\b/.exec(message)
  return code ? code[1] : e instanceof Error ? e.constructor.name : 'error'
}

const runCluster = async ({ rounds, sessions, log }) => {
  const started = Date.now()
  const cluster = await startCluster()
  const clients = []
  try {
    const connectCluster = async (create = createCluster) => {
      const c = create({ rootNodes: [...cluster.rootNodes] })
      c.on('error', () => {})
      await c.connect()
      clients.push(() => c.close())
      return c
    }
    const [ourCluster, crCluster, crCluster5, admin] = [
      await connectCluster(),
      await connectCluster(),
      await connectCluster(createCluster5),
      await connectCluster()
    ]
    const io = new Cluster(
      cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
      { lazyConnect: true }
    )
    await io.connect()
    clients.push(() => io.quit())
    const ours = createRedisStore(ourCluster, { prefix: 'bc-ours:' })
    const oursIo = createRedisStore(fromIoRedisCluster(io), { prefix: 'bc-ours:' })
    const cr = new ConnectRedisStore({ client: crCluster, prefix: 'bc-cr:' })
    const cr5 = new ConnectRedisStore({ client: crCluster5, prefix: 'bc-cr:' })
    await populate(admin, 'bc-ours:', sessions)
    await populate(admin, 'bc-cr:', sessions)
    log(`  cluster: 3 masters up, ${sessions} + ${sessions} sessions stored in ${Date.now() - started} ms`)

    // Each implementation's operation resolves to the number of sessions it saw or removed.
    const ops = {
      length: {
        ours: () => ours.length(),
        'ours-ioredis': () => oursIo.length(),
        'connect-redis': () => cr.length(),
        'connect-redis-v5': () => cr5.length()
      },
      all: {
        ours: () => ours.all().then((r) => Object.keys(r).length),
        'ours-ioredis': () => oursIo.all().then((r) => Object.keys(r).length),
        'connect-redis': () => cr.all().then((r) => r.length),
        'connect-redis-v5': () => cr5.all().then((r) => r.length)
      },
      clear: {
        ours: () => ours.clear().then(() => sessions),
        'ours-ioredis': () => oursIo.clear().then(() => sessions),
        'connect-redis': () => cr.clear().then(() => sessions),
        'connect-redis-v5': () => cr5.clear().then(() => sessions)
      }
    }
    const samples = {}
    const failed = {}
    for (let r = 0; r < rounds; r++) {
      for (const op of Object.keys(ops)) {
        const names = Object.keys(ops[op])
        for (const name of names.map((_, k) => names[(k + r) % names.length])) {
          if (failed[`${op}/${name}`]) continue
          let measured
          try {
            measured = await measureHeap(ops[op][name])
          } catch (e) {
            failed[`${op}/${name}`] = errorCell(e)
            log(`  cluster: ${op} of ${name} failed: ${e instanceof Error ? e.message : e}`)
            continue
          } finally {
            // clear (even a failed one) may have removed sessions: store them again (SET replaces a tombstone).
            if (op === 'clear')
              await populate(admin, name.startsWith('connect-redis') ? 'bc-cr:' : 'bc-ours:', sessions)
          }
          if (measured.result !== sessions)
            throw new Error(`cluster ${op} of ${name} saw ${measured.result} sessions, expected ${sessions}`)
          const s = ((samples[op] ??= {})[name] ??= { ms: [], peakHeapMB: [] })
          s.ms.push(measured.ms)
          s.peakHeapMB.push(measured.peakHeapMB)
        }
      }
      log(`  cluster round ${r + 1}/${rounds} done`)
    }
    const result = {}
    for (const op of Object.keys(ops)) {
      result[op] = {}
      for (const name of Object.keys(ops[op])) {
        const s = samples[op]?.[name]
        result[op][name] = s
          ? { ms: median(s.ms), peakHeapMB: Math.max(...s.peakHeapMB), samplesMs: s.ms }
          : { error: failed[`${op}/${name}`] }
      }
    }
    return { masters: MASTERS, replicas: 0, sessions, rounds, ops: result, seconds: (Date.now() - started) / 1000 }
  } finally {
    await Promise.all(clients.map((close) => close().catch(() => {})))
    await cluster.stop()
  }
}

/** The printed table of `runCluster`'s result, with bench.js's own `table`, `fmt` and `ratio`. */
const clusterTable = (result, { table, fmt, ratio }) => {
  const cell = (v, show) => (v.error ? `— (${v.error})` : show(v))
  return [
    `Batched on a 3-master Redis Cluster (no replicas, loopback), ${fmt(
      result.sessions
    )} sessions (beside as many of the other store's), wall ms and peak extra heap MB, median of ${
      result.rounds
    } rounds; ours and cr on node-redis v6 cluster clients, ours-io on an ioredis Cluster, cr-v5 on a node-redis v5 one`,
    table(
      ['op', 'ours ms', 'ours-io ms', 'cr ms', 'cr-v5 ms', 'speed-up vs cr', 'ours heap', 'cr heap'],
      Object.entries(result.ops).map(([op, v]) => [
        op,
        cell(v.ours, (x) => fmt(x.ms)),
        cell(v['ours-ioredis'], (x) => fmt(x.ms)),
        cell(v['connect-redis'], (x) => fmt(x.ms)),
        cell(v['connect-redis-v5'], (x) => fmt(x.ms)),
        v['connect-redis'].error || v.ours.error ? '—' : ratio(v['connect-redis'].ms, v.ours.ms) + '×',
        cell(v.ours, (x) => fmt(x.peakHeapMB, 1)),
        cell(v['connect-redis'], (x) => fmt(x.peakHeapMB, 1))
      ])
    )
  ]
}

module.exports = { runCluster, clusterTable, startCluster }
