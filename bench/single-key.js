'use strict'
// Single-key throughput: get / set / touch / destroy through the express-session callback API of this
// store and of connect-redis, against raw node-redis commands on the same JSON, interleaved rounds.
// "raw" is the floor of any JSON session store: GET + JSON.parse, JSON.stringify + SET EX, EXPIRE, DEL,
// through the same callback harness. The same rounds also run this store on ioredis 5 and 6 (through
// fromIoRedis) and on Valkey GLIDE (fromValkeyGlide), each beside the same raw commands on that client
// ('ours-<client>', 'raw-<client>' for each of OTHER_CLIENTS).
const { createClient } = require('redis')
const { Redis } = require('ioredis')
const { Redis: Redis6 } = require('ioredis-6')
const { GlideClient, Logger } = require('@valkey/valkey-glide')
const { RedisStore: ConnectRedisStore } = require('connect-redis')
const { createRedisStore } = require('../dist')
const { fromIoRedis } = require('../dist/ioredis')
const { fromValkeyGlide } = require('../dist/valkey-glide')
const { typicalSession, interleavedThroughput } = require('./lib')

const KEYS = 1000 // sessions the ops cycle over

const asPromise = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))))

/** The clients besides node-redis, in table order: their name in the results, and the name shown. */
const OTHER_CLIENTS = [
  ['ioredis', 'ioredis 5'],
  ['ioredis6', 'ioredis 6'],
  ['glide', 'Valkey GLIDE']
]

/**
 * A client of each kind besides node-redis, connected: the raw commands of the `raw-<client>` rows as promises, the
 * store's adapter, and how to close it.
 */
const otherClients = async (url) => {
  const ioredis = (Client) => async () => {
    const c = new Client(url, { lazyConnect: true })
    await c.connect()
    return {
      adapted: fromIoRedis(c),
      get: (k) => c.get(k),
      setEx: (k, v) => c.set(k, v, 'EX', 86400),
      expire: (k) => c.expire(k, 86400),
      del: (k) => c.del(k),
      close: () => c.quit()
    }
  }
  const glide = async () => {
    Logger.setLoggerConfig('off') // GLIDE logs every error reply at 'warn' by default
    const { hostname, port } = new URL(url)
    const c = await GlideClient.createClient({ addresses: [{ host: hostname, port: Number(port) }] })
    return {
      adapted: fromValkeyGlide(c),
      get: (k) => c.get(k),
      setEx: (k, v) => c.set(k, v, { expiry: { type: 'EX', count: 86400 } }),
      expire: (k) => c.expire(k, 86400),
      del: (k) => c.del([k]),
      close: async () => c.close()
    }
  }
  const make = { ioredis: ioredis(Redis), ioredis6: ioredis(Redis6), glide }
  const made = {}
  for (const [name] of OTHER_CLIENTS) made[name] = { ours: await make[name](), raw: await make[name]() }
  return made
}

const runSingleKey = async ({ url, rounds, n, inFlight, log }) => {
  const clients = await Promise.all([0, 1, 2].map(() => createClient({ url }).connect()))
  const [ourClient, crClient, rawClient] = clients
  const others = await otherClients(url)
  const ours = createRedisStore(ourClient, { prefix: 'b-ours:' })
  const oursOn = Object.fromEntries(
    OTHER_CLIENTS.map(([name]) => [name, createRedisStore(others[name].ours.adapted, { prefix: `b-${name}:` })])
  )
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
      for (const [name] of OTHER_CLIENTS) {
        m.set(`b-${name}:${sid(i)}`, json[i], { EX: 86400 })
        m.set(`b-raw${name}:${sid(i)}`, json[i], { EX: 86400 })
      }
    }
    await m.exec()
  }

  /** The `ours-<client>` and `raw-<client>` entries of one operation, for each client besides node-redis. */
  const onOthers = (oursOp, rawOp) =>
    Object.fromEntries(
      OTHER_CLIENTS.flatMap(([name]) => [
        [`ours-${name}`, oursOp(oursOn[name])],
        [`raw-${name}`, rawOp(others[name].raw, name)]
      ])
    )

  const impls = {
    get: {
      ours: (i) => asPromise((cb) => ours.get(sid(i), cb)),
      'connect-redis': (i) => asPromise((cb) => cr.get(sid(i), cb)),
      raw: (i) => asPromise((cb) => rawClient.get(`b-raw:${sid(i)}`).then((v) => cb(null, JSON.parse(v)), cb)),
      ...onOthers(
        (store) => (i) => asPromise((cb) => store.get(sid(i), cb)),
        (raw, name) => (i) => raw.get(`b-raw${name}:${sid(i)}`).then((v) => JSON.parse(v))
      )
    },
    set: {
      ours: (i) => asPromise((cb) => ours.set(sid(i), sessions[i % KEYS], cb)),
      'connect-redis': (i) => asPromise((cb) => cr.set(sid(i), sessions[i % KEYS], cb)),
      raw: (i) =>
        asPromise((cb) =>
          rawClient.set(`b-raw:${sid(i)}`, JSON.stringify(sessions[i % KEYS]), { EX: 86400 }).then(() => cb(null), cb)
        ),
      ...onOthers(
        (store) => (i) => asPromise((cb) => store.set(sid(i), sessions[i % KEYS], cb)),
        (raw, name) => (i) => raw.setEx(`b-raw${name}:${sid(i)}`, JSON.stringify(sessions[i % KEYS]))
      )
    },
    touch: {
      ours: (i) => asPromise((cb) => ours.touch(sid(i), sessions[i % KEYS], cb)),
      'connect-redis': (i) => asPromise((cb) => cr.touch(sid(i), sessions[i % KEYS], cb)),
      raw: (i) => asPromise((cb) => rawClient.expire(`b-raw:${sid(i)}`, 86400).then(() => cb(null), cb)),
      ...onOthers(
        (store) => (i) => asPromise((cb) => store.touch(sid(i), sessions[i % KEYS], cb)),
        (raw, name) => (i) => raw.expire(`b-raw${name}:${sid(i)}`)
      )
    },
    destroy: {
      ours: (i) => asPromise((cb) => ours.destroy(sid(i), cb)),
      'connect-redis': (i) => asPromise((cb) => cr.destroy(sid(i), cb)),
      raw: (i) => asPromise((cb) => rawClient.del(`b-raw:${sid(i)}`).then(() => cb(null), cb)),
      ...onOthers(
        (store) => (i) => asPromise((cb) => store.destroy(sid(i), cb)),
        (raw, name) => (i) => raw.del(`b-raw${name}:${sid(i)}`)
      )
    }
  }

  const result = await interleavedThroughput({ impls, rounds, n, inFlight, seed, log, label: 'single-key' })
  await Promise.all([
    ...clients.map((c) => c.close()),
    ...Object.values(others).flatMap(({ ours, raw }) => [ours.close(), raw.close()])
  ])
  return result
}

module.exports = { runSingleKey, OTHER_CLIENTS }
