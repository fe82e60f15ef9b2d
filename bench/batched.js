'use strict'
// Batched operations over many stored sessions: length, all, clear (and this store's iterate) — wall time
// and peak extra heap, this store against connect-redis, interleaved rounds.
const { createClient } = require('redis')
const { RedisStore: ConnectRedisStore } = require('connect-redis')
const { createRedisStore } = require('../dist')
const { median, typicalSession, measureHeap } = require('./lib')

const populate = async (client, prefix, count) => {
  const json = JSON.stringify(typicalSession(1))
  const chunk = 5000
  for (let i = 0; i < count; i += chunk) {
    const m = client.multi()
    for (let j = i; j < Math.min(count, i + chunk); j++) m.set(`${prefix}sid${j}`, json, { EX: 86400 })
    await m.exec()
  }
}

let liveSample = () => {}

const runBatched = async ({ url, rounds, sessions, log }) => {
  const [ourClient, crClient, admin] = await Promise.all([0, 1, 2].map(() => createClient({ url }).connect()))
  const ours = createRedisStore(ourClient, { prefix: 'bb-ours:' })
  // The price of tombstones in clear: the same store with concurrencyGraceSeconds 0 only deletes.
  const oursNoGrace = createRedisStore(ourClient, { prefix: 'bb-ours:', concurrencyGraceSeconds: 0 })
  const cr = new ConnectRedisStore({ client: crClient, prefix: 'bb-cr:' })
  await admin.flushAll()
  await populate(admin, 'bb-ours:', sessions)
  await populate(admin, 'bb-cr:', sessions)
  const count = async (fn) => fn()

  const ops = {
    length: {
      ours: () => ours.length(),
      'connect-redis': () => cr.length()
    },
    all: {
      ours: () => ours.all().then((r) => Object.keys(r).length),
      'connect-redis': () => cr.all().then((r) => r.length)
    },
    iterate: {
      ours: async () => {
        let n = 0
        for await (const entry of ours.access.iterate()) if (entry) n++
        return n
      }
    },
    // Peak heap above includes garbage not yet collected (up to the young generation's size). This row
    // forces a GC every 2,000 sessions and samples right after it: the heap iterate() really holds.
    'iterate, live heap (GC every 2,000)': {
      ours: async () => {
        let n = 0
        for await (const entry of ours.access.iterate()) {
          if (entry) n++
          if (n % 2000 === 0 && global.gc) {
            global.gc()
            liveSample()
          }
        }
        return n
      }
    },
    clear: {
      ours: () => ours.clear().then(() => sessions),
      'connect-redis': () => cr.clear().then(() => sessions)
    },
    'clear, no tombstones (grace 0)': {
      ours: () => oursNoGrace.clear().then(() => sessions)
    }
  }
  const samples = {}
  for (let r = 0; r < rounds; r++) {
    for (const op of Object.keys(ops)) {
      const names = Object.keys(ops[op])
      const order = names.map((_, k) => names[(k + r) % names.length])
      for (const name of order) {
        if (op.startsWith('clear')) {
          await admin.flushAll()
          await populate(admin, 'bb-ours:', sessions)
          await populate(admin, 'bb-cr:', sessions)
        }
        let livePeak = 0
        const base = (global.gc && global.gc(), process.memoryUsage().heapUsed)
        liveSample = () => (livePeak = Math.max(livePeak, process.memoryUsage().heapUsed - base))
        const measured = await measureHeap(() => count(ops[op][name]))
        const { ms, result } = measured
        const peakHeapMB = op.includes('live heap') ? livePeak / 1048576 : measured.peakHeapMB
        if (result !== sessions) throw new Error(`${op} of ${name} saw ${result} sessions, expected ${sessions}`)
        const s = ((samples[op] ??= {})[name] ??= { ms: [], peakHeapMB: [] })
        s.ms.push(ms)
        s.peakHeapMB.push(peakHeapMB)
      }
    }
    // clear leaves the keyspace with tombstones/empty: restore it for the next round.
    await admin.flushAll()
    await populate(admin, 'bb-ours:', sessions)
    await populate(admin, 'bb-cr:', sessions)
    log(`  batched round ${r + 1}/${rounds} done`)
  }
  await Promise.all([ourClient, crClient, admin].map((c) => c.close()))
  const result = {}
  for (const [op, byImpl] of Object.entries(samples)) {
    result[op] = Object.fromEntries(
      Object.entries(byImpl).map(([k, v]) => [
        k,
        { ms: median(v.ms), peakHeapMB: Math.max(...v.peakHeapMB), samplesMs: v.ms }
      ])
    )
  }
  return result
}

module.exports = { runBatched }
