/**
 * Failover of a Redis Cluster (node timeout 2000 ms) under load (issue 9, items 3 and 5), through node-redis v6
 * and v5 `createCluster`, ioredis 5 and 6 `Cluster`s (the same options on both majors) and a Valkey GLIDE
 * `GlideClusterClient` (GLIDE's defaults), each with the default options and with `waitReplicas: 1` (one client per family and option, all on the same cluster at
 * once, each store under its own prefix).
 *
 * - (a) 1 replica per master: virtual users save, read and log out while the busiest master is SIGKILLed; once
 *   its replica is promoted a supervisor starts the killed node again (it rejoins as the new master's replica).
 *   With `waitReplicas: 1` the promoted master has no replica until then: its logouts reject with
 *   ESESSION_NOT_REPLICATED, and each WAIT holds the client's connection to that node for `waitTimeoutMs`.
 * - (b) 2 replicas per master, `waitReplicas: 1`: the other replica follows the promoted master, logouts are
 *   confirmed again without any restart (node-redis v6 and ioredis: node-redis v5 finds the new master only
 *   through a MOVED reply, which a node that stays dead never sends).
 * - (c) resurrections made deterministic: the replication of one master is held back (its replica cannot
 *   authenticate), every client logs out its sessions on that master, the master is SIGKILLed and the replica
 *   that never got the tombstones promoted (the killed node then restarted). Without the option every acknowledged logout is undone; with it
 *   none is acknowledged (each rejects with ESESSION_NOT_REPLICATED), so none is undone.
 *
 * One `[cluster-failover]` line per client and scenario: time from the kill to the last failed operation, the
 * failed operations by kind, acknowledged saves lost, acknowledged logouts undone, unconfirmed logouts, read
 * back through a fresh cluster client. Then all() / length() / clear() on the new topology.
 */
import { createCluster as createCluster6 } from 'redis'
import { createCluster as createCluster5 } from 'redis-5'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, type RedisSessionStore } from '../../src'
import { fromValkeyGlideCluster } from '../../src/valkey-glide'
import {
  NODE_REDIS_6_CLUSTER_ROW,
  nodeRedisClusterSubject,
  quickBackoff,
  startCluster,
  type ClusterSubject,
  type RedisCluster
} from '../support/cluster'
import { glideClusterClient } from '../support/glide'
import {
  describe,
  holdBackReplication,
  logOutEach,
  outcomeOf,
  releaseReplication,
  streams,
  replicationGap,
  session_,
  settled,
  startLoad,
  within,
  NOT_REPLICATED,
  batchedWorkAfterFailover,
  type Load
} from '../support/failover'
import { IOREDIS_CLUSTER_ROWS } from '../support/ioredis'
import { sleep } from '../support/redis-group'

const USERS = 2
const BEFORE_KILL_MS = 1_000
/** Traffic must flow again this long after the kill. */
const RECOVERY_MS = 10_000
/** Operations must have succeeded this long since the last failure before the load ends. */
const CLEAN_TAIL_MS = 1_000
/** Client-side cap on every operation of the virtual users. */
const CAP_MS = 1_500
/** How long the supervisor of (a) waits before it starts a killed node again. */
const RESTART_DELAY_MS = 2_000

/** The store options under test: the defaults, and logouts confirmed by one replica. */
const OPTIONS = {
  default: { operationTimeoutMs: 500 },
  waitReplicas: { operationTimeoutMs: 500, waitReplicas: 1, waitTimeoutMs: 200 }
} as const
type OptionSet = keyof typeof OPTIONS

type Client = ClusterSubject
const nodeRedis = nodeRedisClusterSubject

const socket = { connectTimeout: 500, reconnectStrategy: quickBackoff }

/** The client options this spec measures (the ones the README recommends). */
const families: ReadonlyArray<readonly [string, (cluster: RedisCluster) => Client | Promise<Client>]> = [
  NODE_REDIS_6_CLUSTER_ROW,
  [
    'node-redis v5',
    ({ rootNodes }) => nodeRedis(createCluster5({ rootNodes: rootNodes.map((n) => ({ ...n })), defaults: { socket } }))
  ],
  ...IOREDIS_CLUSTER_ROWS,
  // GLIDE with its defaults (requestTimeout 250 ms, its own reconnection and topology refresh); it connects in
  // createClient.
  [
    'Valkey GLIDE',
    async ({ ports }) => {
      const c = await glideClusterClient(ports[0] ?? 0)
      return { client: fromValkeyGlideCluster(c), connect: () => Promise.resolve(), stop: () => c.close() }
    }
  ]
]

interface Subject {
  readonly label: string
  readonly waits: boolean
  readonly prefix: string
  readonly store: RedisSessionStore
  readonly client: Client
}

/** One client per family and option set, connected, each store under its own prefix. */
const subjectsOn = async (
  cluster: RedisCluster,
  sets: ReadonlyArray<OptionSet>,
  only: (family: string) => boolean = () => true
): Promise<Array<Subject>> => {
  const subjects: Array<Subject> = []
  try {
    for (const [family, make] of families.filter(([name]) => only(name))) {
      for (const set of sets) {
        const client = await make(cluster)
        const prefix = `fo${subjects.length}:`
        subjects.push({
          label: `${family}, ${set}`,
          waits: set === 'waitReplicas',
          prefix,
          store: createRedisStore(client.client, { prefix, checkEvictionPolicy: false, ...OPTIONS[set] }),
          client
        })
      }
    }
    await Promise.all(subjects.map((s) => s.client.connect()))
    return subjects
  } catch (e) {
    subjects.forEach((s) => s.client.stop())
    throw e
  }
}

/** An admin node-redis v6 cluster client (the killed node left out) for reading keys back. */
const adminOf = async (cluster: RedisCluster, without: number) => {
  const c = createCluster6({
    rootNodes: cluster.rootNodes.filter((n) => !n.url.endsWith(`:${without}`)).map((n) => ({ ...n })),
    defaults: { socket }
  })
  c.on('error', () => undefined)
  await c.connect()
  return c
}
type Admin = Awaited<ReturnType<typeof adminOf>>

/** The `TYPE` of every session key, in chunks. */
const typesOf =
  (admin: Admin, prefix: string) =>
  async (sids: ReadonlyArray<string>): Promise<ReadonlyArray<string>> => {
    const out: Array<string> = []
    for (let from = 0; from < sids.length; from += 500) {
      const chunk = sids.slice(from, from + 500)
      out.push(...(await Promise.all(chunk.map((sid) => within(5_000, () => admin.type(`${prefix}${sid}`))))))
    }
    return out
  }

/** The master with the most keys (every master holds some once the load runs). */
const busiestMaster = async (cluster: RedisCluster): Promise<number> => {
  const masters = await cluster.masters()
  const sizes = await Promise.all(masters.map((p) => cluster.command(p, ['DBSIZE']).then(Number)))
  const best = sizes.indexOf(Math.max(...sizes))
  const port = masters[best]
  if (port === undefined || (sizes[best] ?? 0) === 0) throw new Error(`no master holds sessions (${sizes.join(', ')})`)
  return port
}

/** Polls until the cluster has 3 healthy masters, `killed` not among them; the time it took from `since`. */
const promotion = async (cluster: RedisCluster, killed: number, since: number): Promise<number> => {
  for (;;) {
    const masters = await cluster.masters().catch(() => [] as ReadonlyArray<number>)
    if (masters.length === 3 && !masters.includes(killed)) return Date.now() - since
    if (Date.now() - since > RECOVERY_MS) throw new Error(`no replica of :${killed} promoted`)
    await sleep(100)
  }
}

/** Waits until the restarted node on `port` is the replica of the node that took its slots, synced. */
const rejoined = async (cluster: RedisCluster, port: number): Promise<void> => {
  const since = Date.now()
  for (;;) {
    const info = String(await cluster.command(port, ['INFO', 'replication']).catch(() => ''))
    if (/role:slave/.test(info) && /master_link_status:up/.test(info)) return
    if (Date.now() - since > RECOVERY_MS) throw new Error(`:${port} did not rejoin as a replica`)
    await sleep(50)
  }
}

/**
 * Waits until every master serving slots streams to a replica, reading the masters anew each round: right after
 * a failover and a restart, which nodes are masters is still settling.
 */
const everyMasterStreaming = async (cluster: RedisCluster, timeoutMs = 20_000): Promise<void> => {
  const since = Date.now()
  for (;;) {
    const masters = await cluster.masters().catch(() => [] as ReadonlyArray<number>)
    const waiting = (
      await Promise.all(
        masters.map(async (port) => {
          const seen = await streams(cluster.command, port)
          return seen === null ? null : `:${port} ${seen}`
        })
      )
    ).filter((w): w is string => w !== null)
    if (masters.length === 3 && waiting.length === 0) return
    if (Date.now() - since > timeoutMs)
      throw new Error(`masters [${masters.join(', ')}] not all streaming within ${timeoutMs} ms: ${waiting.join('; ')}`)
    await sleep(100)
  }
}

/**
 * Load on every subject, the busiest master SIGKILLed after `BEFORE_KILL_MS`; `afterPromotion` runs once the
 * replica is promoted (a supervisor's restart), and the load ends once it is done and every subject has had a
 * clean tail (or `RECOVERY_MS` plus the tail after the kill).
 */
const underLoad = async (
  cluster: RedisCluster,
  subjects: ReadonlyArray<Subject>,
  afterPromotion: (killed: number) => Promise<void>
) => {
  const loads: ReadonlyArray<Load> = subjects.map((s) => startLoad(s.store, USERS, CAP_MS))
  try {
    await sleep(BEFORE_KILL_MS)
    const killed = await busiestMaster(cluster)
    const killedAt = Date.now()
    cluster.signal(killed, 'SIGKILL')
    const promotedMs = await promotion(cluster, killed, killedAt)
    await afterPromotion(killed)
    const window = { minMs: promotedMs, cleanMs: CLEAN_TAIL_MS, maxMs: RECOVERY_MS + CLEAN_TAIL_MS }
    while (!loads.every((l) => settled(l.tally, killedAt, window))) await sleep(100)
    return { killed, killedAt, promotedMs, loads }
  } finally {
    loads.forEach((l) => l.stop())
    await Promise.all(loads.map((l) => l.done))
  }
}

/** Reads every subject's tally back, prints its line, checks what holds for every client. */
const report = async (
  scenario: string,
  cluster: RedisCluster,
  subjects: ReadonlyArray<Subject>,
  run: Awaited<ReturnType<typeof underLoad>>
) => {
  // The batched operations tombstone (clear): with waitReplicas every master needs a replica it streams to.
  await everyMasterStreaming(cluster)
  const admin = await adminOf(cluster, run.killed)
  try {
    for (const [i, s] of subjects.entries()) {
      const load = run.loads[i]
      if (load === undefined) throw new Error('no load')
      const o = await outcomeOf(load.tally, run.killedAt, typesOf(admin, s.prefix))
      console.log(`[cluster-failover] ${scenario}, ${s.label}: ${describe(o)}`)
      assert.ok(o.recoveredMs < RECOVERY_MS, `${s.label}: traffic recovered ${o.recoveredMs} ms after the kill`)
      assert.ok(o.ok > 0, `${s.label}: operations succeeded`)
      if (s.waits) assert.is(o.resurrected, 0, `${s.label}: no logout confirmed by a replica comes back`)
      else assert.is(o.unconfirmed, 0, `${s.label}: without waitReplicas no logout waits`)
      const live = await batchedWorkAfterFailover(s)
      assert.ok(live >= o.saved - o.lost, `${s.label}: length() ${live} counts the surviving saves`)
    }
  } finally {
    admin.destroy()
  }
}

const it = suite('integration: Redis Cluster failover under load')

it('(a) 1 replica per master: a master SIGKILLed under traffic, restarted once its replica is promoted', async () => {
  const cluster = await startCluster()
  let subjects: ReadonlyArray<Subject> = []
  try {
    subjects = await subjectsOn(cluster, ['default', 'waitReplicas'])
    let restartedMs = 0
    let rejoinedMs = 0
    const run = await underLoad(cluster, subjects, async (killed) => {
      const since = Date.now()
      await sleep(RESTART_DELAY_MS)
      await cluster.restart(killed)
      restartedMs = Date.now() - since
      await rejoined(cluster, killed)
      rejoinedMs = Date.now() - since
    })
    console.log(
      `[cluster-failover] (a) 1 replica per master: cluster up in ${cluster.startMs} ms; master :${run.killed} ` +
        `killed, replica promoted after ${run.promotedMs} ms; the killed node restarted ${restartedMs} ms ` +
        `after the promotion, a synced replica again after ${rejoinedMs} ms`
    )
    await report('(a)', cluster, subjects, run)
  } finally {
    subjects.forEach((s) => s.client.stop())
    await cluster.stop()
  }
})

it('(b) 2 replicas per master, waitReplicas 1: logouts confirmed again after the failover, no restart', async () => {
  const cluster = await startCluster({ replicasPerMaster: 2 })
  let subjects: ReadonlyArray<Subject> = []
  try {
    // node-redis v5 refreshes its slot map only on a MOVED reply: with the killed node gone for good it keeps
    // sending that node's slots to it (measured: no recovery within 10 s). It is measured in (a) and (c),
    // where the killed node comes back and answers MOVED.
    // Valkey GLIDE: gets, saves and the logouts' scripts recover once the replica is promoted, but every logout of
    // the dead master's slots then ends at the store's deadline (the WAIT after the script does not answer in time)
    // until about 11.4 s after the kill (11.3, 11.4, 11.4 s measured), past this scenario's 10 s bound; nothing
    // acknowledged is lost or undone meanwhile. Measured in (a) and (c); docs/redis-clients.md says so.
    subjects = await subjectsOn(
      cluster,
      ['waitReplicas'],
      (family) => family !== 'node-redis v5' && family !== 'Valkey GLIDE'
    )
    const run = await underLoad(cluster, subjects, async () => undefined)
    console.log(
      `[cluster-failover] (b) 2 replicas per master: cluster up in ${cluster.startMs} ms; master :${run.killed} ` +
        `killed, replica promoted after ${run.promotedMs} ms`
    )
    await report('(b)', cluster, subjects, run)
    // Every master has a replica again: a logout on any slot is confirmed.
    for (const s of subjects) {
      for (let i = 0; i < 12; i++) {
        assert.is(await s.store.access.set(`after${i}`, session_(60_000)), 'written')
        assert.is(await s.store.access.destroy(`after${i}`), true, `${s.label}: logout confirmed after the failover`)
      }
    }
  } finally {
    subjects.forEach((s) => s.client.stop())
    await cluster.stop()
  }
})

/** The session ids of `prefix` on the node on `port` (one SCAN walk). */
const sidsOn = async (cluster: RedisCluster, port: number, prefix: string): Promise<ReadonlyArray<string>> => {
  const sids: Array<string> = []
  let cursor = '0'
  do {
    const [next, keys] = (await cluster.command(port, ['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [
      string,
      ReadonlyArray<string>
    ]
    sids.push(...keys.map((k) => k.slice(prefix.length)))
    cursor = next
  } while (cursor !== '0')
  return sids
}

/**
 * A master and its replica, once the cluster's view has both: on a loaded machine a node may briefly flag another
 * `fail?` (no answer to its pings in time), and `masters()` / `replicasOf()` leave such a node out. Polls for 10 s.
 */
const masterWithReplica = async (cluster: RedisCluster): Promise<{ target: number; replica: number }> => {
  const since = Date.now()
  let seen: string
  for (;;) {
    const masters = await cluster.masters().catch(() => [] as ReadonlyArray<number>)
    const target = masters[0]
    const replicas =
      target === undefined ? [] : await cluster.replicasOf(target).catch(() => [] as ReadonlyArray<number>)
    const replica = replicas[0]
    if (masters.length === 3 && target !== undefined && replica !== undefined) return { target, replica }
    seen = `masters [${masters.join(', ')}], replicas of the first [${replicas.join(', ')}]`
    if (Date.now() - since > 10_000)
      throw new Error(`no master with a replica in the cluster's view within 10 s: ${seen}`)
    await sleep(100)
  }
}

it('(c) replication held back, logouts, the master SIGKILLed: resurrections with and without waitReplicas', async () => {
  const cluster = await startCluster()
  let subjects: ReadonlyArray<Subject> = []
  try {
    subjects = await subjectsOn(cluster, ['default', 'waitReplicas'])
    for (const s of subjects) {
      for (let i = 0; i < 30; i++) assert.is(await s.store.access.set(`d${i}`, session_(600_000)), 'written')
    }
    const { target, replica } = await masterWithReplica(cluster)
    // The sessions are on the replica too before replication stops.
    const owned = await Promise.all(subjects.map((s) => sidsOn(cluster, target, s.prefix)))
    for (;;) {
      const there = await Promise.all(subjects.map((s) => sidsOn(cluster, replica, s.prefix)))
      if (there.every((sids, i) => sids.length === owned[i]?.length)) break
      await sleep(50)
    }
    await holdBackReplication(cluster.command, replica)
    const outcomes = await Promise.all(subjects.map((s, i) => logOutEach(s.store, owned[i] ?? [])))
    const gap = await replicationGap(cluster.command, target, replica)
    assert.ok(gap > 0, `the replica lacks ${gap} bytes of its master's stream`)
    const killedAt = Date.now()
    cluster.signal(target, 'SIGKILL')
    await releaseReplication(cluster.command, replica)
    const promotedMs = await promotion(cluster, target, killedAt)
    // A supervisor starts it again: it rejoins as a replica (node-redis v5 needs its MOVED to find the new master).
    await cluster.restart(target)
    // Every client answers again on the promoted node's slots.
    for (const [i, s] of subjects.entries()) {
      const probe = owned[i]?.[0] ?? 'none'
      for (;;) {
        const answered = await within(1_000, () => s.store.access.get(probe)).then(
          () => true,
          () => false
        )
        if (answered) break
        if (Date.now() - killedAt > RECOVERY_MS + 5_000)
          throw new Error(`${s.label} does not answer after the failover`)
        await sleep(100)
      }
    }
    const answeredMs = Date.now() - killedAt
    // The batched operations below tombstone too: with waitReplicas the promoted master needs its replica back.
    await rejoined(cluster, target)
    await everyMasterStreaming(cluster)
    console.log(
      `[cluster-failover] (c) held-back replica: master :${target} killed with its replica ${gap} bytes behind; ` +
        `replica promoted after ${promotedMs} ms, every client answering ${answeredMs} ms after the kill`
    )
    const admin = await adminOf(cluster, target)
    try {
      for (const [i, s] of subjects.entries()) {
        const o = outcomes[i]
        if (o === undefined) throw new Error('no outcome')
        const strings = async (sids: ReadonlyArray<string>) =>
          (await typesOf(admin, s.prefix)(sids)).filter((t) => t === 'string').length
        const undone = await strings(o.acknowledged)
        const back = await strings(o.unconfirmed)
        console.log(
          `[cluster-failover] (c), ${s.label}: ${undone} of ${o.acknowledged.length} acknowledged logouts undone; ` +
            `${o.unconfirmed.length} logouts ${NOT_REPLICATED} (${back} of them a string again); ${
              o.other.length
            } other [${o.otherCodes.join(', ')}]; ${o.timedOut} tries timed out and were made again`
        )
        const n = owned[i]?.length ?? 0
        assert.ok(n > 0, `${s.label}: sessions on the killed master`)
        assert.is(
          o.other.length,
          0,
          `${s.label}: every logout either acknowledged or unconfirmed (${o.otherCodes.join(', ')})`
        )
        if (s.waits) {
          assert.is(o.acknowledged.length, 0, `${s.label}: no logout acknowledged without a replica`)
          assert.is(o.unconfirmed.length, n, `${s.label}: every logout rejected with ${NOT_REPLICATED}`)
        } else {
          assert.is(o.acknowledged.length, n, `${s.label}: every logout acknowledged`)
          assert.is(undone, n, `${s.label}: every acknowledged logout undone by the failover`)
        }
        await batchedWorkAfterFailover(s)
      }
    } finally {
      admin.destroy()
    }
  } finally {
    subjects.forEach((s) => s.client.stop())
    await cluster.stop()
  }
})

it.run()
