'use strict'
// The cost of encryption at rest: get and set ops/s through the express-session callback API, this store with
// the default jsonSerializer against the same store with encryptedSerializer (AES-256-GCM), interleaved rounds
// on one Redis; and the serializer alone (no Redis), µs per stringify / parse of a typical session.
// Standalone: `npm run build && node bench/encryption.js [--quick]` (starts its own redis-server).
const { randomBytes } = require('crypto')
const { createClient } = require('redis')
const { createRedisStore, encryptedSerializer, jsonSerializer } = require('../dist')
const { median, startRedis, typicalSession, interleavedThroughput } = require('./lib')

const KEYS = 1000 // sessions the ops cycle over

const asPromise = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))))

/** µs per call of `f(i)`, over `n` calls. */
const micros = (n, f) => {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) f(i)
  return Number(process.hrtime.bigint() - t0) / 1e3 / n
}

const runEncryption = async ({ url, rounds, n, inFlight, log }) => {
  const encrypted = encryptedSerializer({ keys: [{ id: 'k1', key: randomBytes(32) }] })
  const clients = await Promise.all([0, 1].map(() => createClient({ url }).connect()))
  const [plainClient, encClient] = clients
  const stores = {
    ours: createRedisStore(plainClient, { prefix: 'e-plain:' }),
    'ours-encrypted': createRedisStore(encClient, { prefix: 'e-enc:', serializer: encrypted })
  }
  const sessions = Array.from({ length: KEYS }, (_, i) => typicalSession(i))
  const sid = (i) => `sid${i % KEYS}`
  const seed = () =>
    Promise.all(
      Object.values(stores).flatMap((store) => sessions.map((s, i) => asPromise((cb) => store.set(sid(i), s, cb))))
    )
  const impls = {}
  for (const [name, store] of Object.entries(stores)) {
    ;(impls.get ??= {})[name] = (i) => asPromise((cb) => store.get(sid(i), cb))
    ;(impls.set ??= {})[name] = (i) => asPromise((cb) => store.set(sid(i), sessions[i % KEYS], cb))
  }

  const samples = await interleavedThroughput({ impls, rounds, n, inFlight, seed, log, label: 'encryption' })
  await Promise.all(clients.map((c) => c.close()))

  // The serializer alone: what encryption adds to each get (parse) and set (stringify), in CPU time.
  const ctx = Array.from({ length: KEYS }, (_, i) => ({ sid: sid(i) }))
  const json = sessions.map((s) => jsonSerializer.stringify(s).right)
  const sealed = sessions.map((s, i) => encrypted.stringify(s, ctx[i]).right)
  const cpu = { stringify: {}, parse: {} }
  const m = n * 2
  for (let r = 0; r < rounds; r++) {
    ;(cpu.stringify.ours ??= []).push(micros(m, (i) => jsonSerializer.stringify(sessions[i % KEYS], ctx[i % KEYS])))
    ;(cpu.stringify['ours-encrypted'] ??= []).push(
      micros(m, (i) => encrypted.stringify(sessions[i % KEYS], ctx[i % KEYS]))
    )
    ;(cpu.parse.ours ??= []).push(micros(m, (i) => jsonSerializer.parse(json[i % KEYS], ctx[i % KEYS])))
    ;(cpu.parse['ours-encrypted'] ??= []).push(micros(m, (i) => encrypted.parse(sealed[i % KEYS], ctx[i % KEYS])))
  }

  const result = {
    valueLength: { ours: json[7].length, 'ours-encrypted': sealed[7].length },
    cpuMicros: {},
    ...samples
  }
  for (const [op, byImpl] of Object.entries(cpu))
    result.cpuMicros[op] = Object.fromEntries(Object.entries(byImpl).map(([k, v]) => [k, median(v)]))
  return result
}

const encryptionTable = (plan, result, { table, fmt, ratio }) => [
  `Encryption at rest (encryptedSerializer, AES-256-GCM) against the default jsonSerializer: ops/s through the callback API (${plan.inFlight} in flight, ${plan.n} ops, median of ${plan.rounds} interleaved rounds), and the serializer alone in µs per call`,
  table(
    ['op', 'plain ops/s', 'encrypted ops/s', 'enc/plain', 'serializer', 'plain µs', 'encrypted µs', '+µs'],
    [
      ['get', 'parse'],
      ['set', 'stringify']
    ].map(([op, fn]) => [
      op,
      fmt(result[op].ours.opsPerSec),
      fmt(result[op]['ours-encrypted'].opsPerSec),
      ratio(result[op]['ours-encrypted'].opsPerSec, result[op].ours.opsPerSec),
      fn,
      fmt(result.cpuMicros[fn].ours, 2),
      fmt(result.cpuMicros[fn]['ours-encrypted'], 2),
      fmt(result.cpuMicros[fn]['ours-encrypted'] - result.cpuMicros[fn].ours, 2)
    ])
  ),
  `Stored value length of a typical session: ${result.valueLength.ours} characters plain, ${result.valueLength['ours-encrypted']} encrypted.`
]

module.exports = { runEncryption, encryptionTable }

if (require.main === module) {
  const quick = process.argv.includes('--quick')
  const plan = quick ? { rounds: 1, n: 2000, inFlight: 64 } : { rounds: 9, n: 20000, inFlight: 64 }
  const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
  const ratio = (a, b) => (a / b).toFixed(2)
  const table = (head, rows) =>
    [head, ...rows]
      .map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(4) : String(c).padStart(14))).join(' '))
      .join('\n')
  ;(async () => {
    const redis = await startRedis()
    try {
      const result = await runEncryption({ url: redis.url, ...plan, log: (m) => process.stderr.write(m + '\n') })
      console.log(encryptionTable(plan, result, { table, fmt, ratio }).join('\n'))
    } finally {
      await redis.stop()
    }
  })().catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
