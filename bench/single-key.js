'use strict'
// Single-key throughput: get / set / touch / destroy through the express-session callback API of this
// store and of connect-redis, against raw node-redis commands on the same JSON, interleaved rounds.
// "raw" is the floor of any JSON session store: GET + JSON.parse, JSON.stringify + SET EX, EXPIRE, DEL,
// through the same callback harness. The same rounds also run this store on ioredis (through
// fromIoRedis) and the same raw commands on ioredis ('ours-ioredis', 'raw-ioredis').
const { createClient } = require('redis')
const { Redis } = require('ioredis')
const { RedisStore: ConnectRedisStore } = require('connect-redis')
const { createRedisStore } = require('../dist')
const { fromIoRedis } = require('../dist/ioredis')
const { typicalSession, interleavedThroughput } = require('./lib')

const KEYS = 1000 // sessions the ops cycle over

const asPromise = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))))

const runSingleKey = async ({ url, rounds, n, inFlight, log }) => {
  const clients = await Promise.all([0, 1, 2].map(() => createClient({ url }).connect()))
  const [ourClient, crClient, rawClient] = clients
  const ioClients = [0, 1].map(() => new Redis(url, { lazyConnect: true }))
  await Promise.all(ioClients.map((c) => c.connect()))
  const [ourIoClient, rawIoClient] = ioClients
  const ours = createRedisStore(ourClient, { prefix: 'b-ours:' })
  const oursIo = createRedisStore(fromIoRedis(ourIoClient), { prefix: 'b-io:' })
  const cr = new ConnectRedisStore({ client: crClient, prefix: 'b-cr:' })
  const sessions = Array.from({ length: KEYS }, (_, i) => typicalSession(i))
  const json = sessions.map((s) => JSON.stringify(s))
  const sid = (i) => `sid${i % KEYS}`

  const seed = async () => {
    const m = rawClient.multi()
    for (let i = 0; i < KEYS; i++) {
      m.set(`b-ours:${sid(i)}`, json[i], { EX: 86400 })
      m.set(`b-cr:${sid(i)}`, json[i], { EX: 86400 })
      m.set(`b-raw:${sid(i)}`, json[i], { EX: 86400 })
      m.set(`b-io:${sid(i)}`, json[i], { EX: 86400 })
      m.set(`b-rawio:${sid(i)}`, json[i], { EX: 86400 })
    }
    await m.exec()
  }

  const impls = {
    get: {
      ours: (i) => asPromise((cb) => ours.get(sid(i), cb)),
      'connect-redis': (i) => asPromise((cb) => cr.get(sid(i), cb)),
      raw: (i) => asPromise((cb) => rawClient.get(`b-raw:${sid(i)}`).then((v) => cb(null, JSON.parse(v)), cb)),
      'ours-ioredis': (i) => asPromise((cb) => oursIo.get(sid(i), cb)),
      'raw-ioredis': (i) =>
        asPromise((cb) => rawIoClient.get(`b-rawio:${sid(i)}`).then((v) => cb(null, JSON.parse(v)), cb))
    },
    set: {
      ours: (i) => asPromise((cb) => ours.set(sid(i), sessions[i % KEYS], cb)),
      'connect-redis': (i) => asPromise((cb) => cr.set(sid(i), sessions[i % KEYS], cb)),
      raw: (i) =>
        asPromise((cb) =>
          rawClient.set(`b-raw:${sid(i)}`, JSON.stringify(sessions[i % KEYS]), { EX: 86400 }).then(() => cb(null), cb)
        ),
      'ours-ioredis': (i) => asPromise((cb) => oursIo.set(sid(i), sessions[i % KEYS], cb)),
      'raw-ioredis': (i) =>
        asPromise((cb) =>
          rawIoClient.set(`b-rawio:${sid(i)}`, JSON.stringify(sessions[i % KEYS]), 'EX', 86400).then(() => cb(null), cb)
        )
    },
    touch: {
      ours: (i) => asPromise((cb) => ours.touch(sid(i), sessions[i % KEYS], cb)),
      'connect-redis': (i) => asPromise((cb) => cr.touch(sid(i), sessions[i % KEYS], cb)),
      raw: (i) => asPromise((cb) => rawClient.expire(`b-raw:${sid(i)}`, 86400).then(() => cb(null), cb)),
      'ours-ioredis': (i) => asPromise((cb) => oursIo.touch(sid(i), sessions[i % KEYS], cb)),
      'raw-ioredis': (i) => asPromise((cb) => rawIoClient.expire(`b-rawio:${sid(i)}`, 86400).then(() => cb(null), cb))
    },
    destroy: {
      ours: (i) => asPromise((cb) => ours.destroy(sid(i), cb)),
      'connect-redis': (i) => asPromise((cb) => cr.destroy(sid(i), cb)),
      raw: (i) => asPromise((cb) => rawClient.del(`b-raw:${sid(i)}`).then(() => cb(null), cb)),
      'ours-ioredis': (i) => asPromise((cb) => oursIo.destroy(sid(i), cb)),
      'raw-ioredis': (i) => asPromise((cb) => rawIoClient.del(`b-rawio:${sid(i)}`).then(() => cb(null), cb))
    }
  }

  const result = await interleavedThroughput({ impls, rounds, n, inFlight, seed, log, label: 'single-key' })
  await Promise.all([...clients.map((c) => c.close()), ...ioClients.map((c) => c.quit())])
  return result
}

module.exports = { runSingleKey }
