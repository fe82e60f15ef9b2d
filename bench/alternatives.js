#!/usr/bin/env node
'use strict'
// The commands touch, set and destroy could send, side by side on one redis-server (interleaved rounds, 64 in
// flight, median): ops/s, client CPU µs per op (this process) and Redis CPU µs per op (INFO cpu). Raw node-redis
// calls, no store around them, so only the command and its reply differ. Those marked "floor" break a guarantee
// and are there as a bound only.
// `node --expose-gc bench/alternatives.js [--quick] [--pad <bytes>]` (starts its own redis-server); --pad adds that
// many bytes to each session, to see how the size of what comes back weighs.
const { createHash } = require('crypto')
const { createClient } = require('redis')
const { startRedis, typicalSession, interleavedThroughput, table, fmt, ratio } = require('./lib')
const { TOMBSTONE_ONE_SCRIPT, TOMBSTONE_SCRIPT } = require('../dist/scripts')

const KEYS = 1000
const log = (m) => process.stderr.write(m + '\n')
const sha = (source) => createHash('sha1').update(source).digest('hex')

const scripts = {
  // touch: renew a string's TTL, reply 0/1; never a tombstone, never a missing key.
  touch: `if redis.call('TYPE', KEYS[1])['ok'] ~= 'string' then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[1])`,
  // set: refuse anything but a string or nothing (a tombstone), reply 0/1, without the old value.
  set: `local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'string' and t ~= 'none' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
  // destroy, before: the batch tombstone script with one key (the store's own source).
  tombstone: TOMBSTONE_SCRIPT.source,
  // destroy, one key, straight line (what the store runs): TYPE, DEL (the first write), HSET, PEXPIRE.
  tombstoneOne: TOMBSTONE_ONE_SCRIPT.source,
  // destroy, one key, GETDEL instead of TYPE + DEL for a live session (a tombstone makes it fail: then DEL).
  tombstoneGetdel: `local v = redis.pcall('GETDEL', KEYS[1])
local live = 0
if type(v) == 'table' and v['err'] then redis.call('DEL', KEYS[1]) elseif v then live = 1 end
local grace = tonumber(ARGV[1])
if grace > 0 then
  redis.call('HSET', KEYS[1], 'destroyedAt', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], grace)
end
return live`,
  // destroy, one key, no TYPE: DEL's count, then HSET and PEXPIRE (counts a tombstone as removed).
  tombstoneDel: `local removed = redis.call('DEL', KEYS[1])
local grace = tonumber(ARGV[1])
if grace > 0 then
  redis.call('HSET', KEYS[1], 'destroyedAt', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], grace)
end
return removed`
}
const shas = Object.fromEntries(Object.entries(scripts).map(([k, v]) => [k, sha(v)]))

const run = async () => {
  const quick = process.argv.includes('--quick')
  const plan = quick ? { rounds: 2, n: 500, inFlight: 64 } : { rounds: 30, n: 2000, inFlight: 64 }
  const redis = await startRedis()
  const [c, seedClient] = await Promise.all([0, 1].map(() => createClient({ url: redis.url }).connect()))
  try {
    for (const source of Object.values(scripts)) await c.scriptLoad(source)
    const at = process.argv.indexOf('--pad')
    const pad = at < 0 ? '' : 'x'.repeat(Number(process.argv[at + 1]))
    const sessions = Array.from({ length: KEYS }, (_, i) =>
      JSON.stringify({ ...typicalSession(i), ...(pad ? { pad } : {}) })
    )
    log(`sessions of ${sessions[0].length} bytes`)
    const names = [
      'getex',
      'tscript',
      'pexpire',
      'expire',
      'setget',
      'sscript',
      'set',
      'ts',
      'ts1',
      'tsgd',
      'tsdel',
      'del'
    ]
    const seed = async () => {
      const m = seedClient.multi()
      for (let i = 0; i < KEYS; i++) for (const p of names) m.set(`${p}:${i}`, sessions[i], { EX: 86400 })
      await m.exec()
    }
    const k = (p, i) => `${p}:${i % KEYS}`
    const px = 86400000
    const now = () => String(Date.now())
    const impls = {
      touch: {
        'GETEX PX (today)': (i) => c.getEx(k('getex', i), { PX: px }),
        'script TYPE+PEXPIRE': (i) => c.evalSha(shas.touch, { keys: [k('tscript', i)], arguments: [String(px)] }),
        'PEXPIRE (revives no one, extends tombstones)': (i) => c.pExpire(k('pexpire', i), px),
        'EXPIRE (connect-redis)': (i) => c.expire(k('expire', i), 86400)
      },
      set: {
        'SET PX GET (today)': (i) => c.set(k('setget', i), sessions[i % KEYS], { PX: px, GET: true }),
        'script TYPE+SET': (i) =>
          c.evalSha(shas.set, { keys: [k('sscript', i)], arguments: [sessions[i % KEYS], String(px)] }),
        'SET PX (floor: overwrites tombstones)': (i) => c.set(k('set', i), sessions[i % KEYS], { PX: px })
      },
      destroy: {
        'tombstone script (today)': (i) =>
          c.evalSha(shas.tombstone, { keys: [k('ts', i)], arguments: ['300000', now(), '1'] }),
        'one-key TYPE+DEL+HSET+PEXPIRE': (i) =>
          c.evalSha(shas.tombstoneOne, { keys: [k('ts1', i)], arguments: ['300000', now()] }),
        'one-key GETDEL(+DEL)+HSET+PEXPIRE': (i) =>
          c.evalSha(shas.tombstoneGetdel, { keys: [k('tsgd', i)], arguments: ['300000', now()] }),
        'one-key DEL+HSET+PEXPIRE (counts tombstones)': (i) =>
          c.evalSha(shas.tombstoneDel, { keys: [k('tsdel', i)], arguments: ['300000', now()] }),
        'DEL (floor: no tombstone)': (i) => c.del(k('del', i))
      }
    }
    const serverCpu = async () => {
      const info = await seedClient.info('cpu')
      const v = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)[1])
      return v('used_cpu_user') + v('used_cpu_sys')
    }
    const result = await interleavedThroughput({ impls, ...plan, seed, log, label: 'alternatives', serverCpu })
    for (const [op, byImpl] of Object.entries(result)) {
      const first = Object.values(byImpl)[0]
      console.log(
        `\n${op}, sessions of ${sessions[0].length} bytes (${plan.inFlight} in flight, median of ${plan.rounds} rounds of ${plan.n} ops; ratio to the first row)`
      )
      console.log(
        table(
          ['command', 'ops/s', 'ratio', 'client µs/op', 'redis µs/op'],
          Object.entries(byImpl).map(([name, v]) => [
            name,
            fmt(v.opsPerSec),
            ratio(v.opsPerSec, first.opsPerSec),
            fmt(v.cpuUsPerOp, 1),
            fmt(v.serverUsPerOp, 1)
          ])
        )
      )
    }
  } finally {
    await Promise.all([c.close(), seedClient.close()])
    await redis.stop()
  }
}

run().catch((e) => {
  console.error(e)
  process.exit(1)
})
