'use strict'
// The price of `concurrentSaves`: a save of a session the store handed out (its base known), in each mode, on one
// redis-server, interleaved rounds (the order rotates each round), 64 in flight. Rows:
// - changed: the session differs from its base in a field (the usual save): SET … GET, or the compare-and-set script;
// - unchanged: it differs only in the cookie's expiry: GETEX in every mode (no write);
// - conflict: another request saved a field meanwhile: 'merge' pays the script, a GET and the script again;
// - no base: a copy of the session (the store did not hand it out): SET … GET in every mode, the old path.
// Client CPU (this process) and Redis CPU (INFO cpu) are per save, in µs.
const { createClient } = require('redis')
const { createRedisStore } = require('../dist')
const { median, typicalSession, interleavedThroughput } = require('./lib')

const MODES = ['overwrite', 'merge', 'fail']

const redisCpu = (client) => async () => {
  const info = await client.info('cpu')
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  return field('used_cpu_sys') + field('used_cpu_user')
}

const runConcurrentSaves = async ({ url, rounds, n, inFlight, log }) => {
  const client = await createClient({ url }).connect()
  try {
    const stores = Object.fromEntries(
      MODES.map((mode) => [mode, createRedisStore(client, { prefix: `cs-${mode}:`, concurrentSaves: mode })])
    )
    const total = Math.max(n, 2000)
    /** Per mode and row, the sessions each op saves: loaded through the store, then changed as the row says. */
    let held = {}
    const later = () => ({ ...typicalSession(0).cookie, expires: new Date(Date.now() + 86400000 + 60000) })
    const seed = async () => {
      held = {}
      for (const mode of MODES) {
        const { access } = stores[mode]
        const rows = { changed: [], unchanged: [], conflict: [], 'no base': [] }
        for (let from = 0; from < total; from += 500) {
          const ids = Array.from({ length: Math.min(500, total - from) }, (_, k) => `s${from + k}`)
          await Promise.all(ids.map((sid, k) => access.set(sid, typicalSession(from + k))))
          const loaded = await Promise.all(ids.map((sid) => access.get(sid)))
          const again = await Promise.all(ids.map((sid) => access.get(sid)))
          loaded.forEach((s, k) => {
            const other = again[k]
            rows.changed.push(Object.assign(s, { views: s.views + 1 }))
            rows.unchanged.push(Object.assign(other, { cookie: later() }))
            rows['no base'].push({ ...s, views: s.views + 2 })
          })
        }
        if (mode === 'merge') {
          // conflict: loaded, then another request saves another field first (cs-merge-c: a prefix of its own).
          const conflicted = createRedisStore(client, { prefix: 'cs-merge-c:', concurrentSaves: 'merge' })
          stores['merge, conflict'] = conflicted
          for (let from = 0; from < total; from += 500) {
            const ids = Array.from({ length: Math.min(500, total - from) }, (_, k) => `s${from + k}`)
            await Promise.all(ids.map((sid, k) => conflicted.access.set(sid, typicalSession(from + k))))
            const mine = await Promise.all(ids.map((sid) => conflicted.access.get(sid)))
            const theirs = await Promise.all(ids.map((sid) => conflicted.access.get(sid)))
            await Promise.all(ids.map((sid, k) => conflicted.access.set(sid, { ...theirs[k], flash: { info: 'x' } })))
            mine.forEach((s) => rows.conflict.push(Object.assign(s, { views: s.views + 1 })))
          }
        }
        held[mode] = rows
      }
    }
    const save =
      (mode, row, store = stores[mode]) =>
      (i) =>
        store.access.set(`s${i % total}`, held[mode][row][i % total])
    const impls = {
      changed: Object.fromEntries(MODES.map((m) => [m, save(m, 'changed')])),
      unchanged: Object.fromEntries(MODES.map((m) => [m, save(m, 'unchanged')])),
      'no base': Object.fromEntries(MODES.map((m) => [m, save(m, 'no base')])),
      conflict: { merge: (i) => save('merge', 'conflict', stores['merge, conflict'])(i) }
    }
    await seed()
    const result = await interleavedThroughput({
      impls,
      rounds,
      n,
      inFlight,
      seed,
      log,
      label: 'concurrent saves',
      serverCpu: redisCpu(client)
    })
    return result
  } finally {
    await client.close()
  }
}

/** The table: one row per case and mode, ops/s, and µs of CPU per save on each side. */
const concurrentSavesRows = (r) =>
  Object.entries(r).flatMap(([row, byMode]) =>
    Object.entries(byMode).map(([mode, m]) => [
      row,
      mode,
      Math.round(m.opsPerSec),
      m.cpuUsPerOp.toFixed(1),
      (m.serverUsPerOp ?? 0).toFixed(1)
    ])
  )

module.exports = { runConcurrentSaves, concurrentSavesRows, median }
