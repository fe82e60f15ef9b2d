/**
 * The store's `expired` event (expiredEvents) on a Redis Cluster of 3 masters and 3 replicas (node timeout 2000 ms,
 * `notify-keyspace-events Khx` on every node), through node-redis v4 and v6 `createCluster` and ioredis 5 and 6
 * `Cluster`s, each store under its own prefix:
 *
 * - sessions on every master expire: one event each (the exact set, none doubled); destroyed sessions' tombstones
 *   expire: none;
 * - a master SIGKILLed (its replica in sync, the node checked dead), its replica promoted: the sessions it held,
 *   which expire during or after the failover, and sessions saved on the promoted master afterwards, are each
 *   reported once — none lost, none doubled; the killed node restarted (it rejoins as a replica) is subscribed to
 *   again.
 *
 * One `[expired-cluster]` line per phase with the times measured.
 */
import { createCluster as createCluster4 } from 'redis-4'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { keySlot } from '../../src/client/slot'
import { createRedisStore, type RedisSessionStore } from '../../src/express/create-redis-store'
import {
  NODE_REDIS_6_CLUSTER_ROW,
  nodeRedisClusterSubject,
  quickBackoff,
  startCluster,
  type ClusterSubject,
  type RedisCluster
} from '../support/cluster'
import { replicaStreaming, replicationGap, session_ } from '../support/failover'
import { IOREDIS_CLUSTER_ROWS } from '../support/ioredis'
import { pollUntil, sleep } from '../support/redis-group'

type Client = ClusterSubject
const nodeRedis = nodeRedisClusterSubject

const socket = { connectTimeout: 500, reconnectStrategy: quickBackoff }

const families: ReadonlyArray<readonly [string, (cluster: RedisCluster) => Client]> = [
  NODE_REDIS_6_CLUSTER_ROW,
  [
    'node-redis v4',
    ({ rootNodes }) =>
      nodeRedis(
        createCluster4({
          rootNodes: rootNodes.map((n) => ({ ...n })),
          defaults: { socket }
        })
      )
  ],
  ...IOREDIS_CLUSTER_ROWS
]

interface Subject {
  readonly label: string
  readonly prefix: string
  readonly store: RedisSessionStore
  readonly client: Client
  readonly expired: Array<string>
  readonly warnings: Array<string>
}

/** The session ids `store` reported expired, each once, sorted; and whether any came twice. */
const reportedOnce = (s: Subject): { readonly sids: ReadonlyArray<string>; readonly doubled: number } => {
  const sids = [...new Set(s.expired)].sort()
  return { sids, doubled: s.expired.length - sids.length }
}

/** Each store reported exactly `expected` (each once: none lost, none doubled), and warned of nothing. */
const assertReported = (subjects: ReadonlyArray<Subject>, expected: ReadonlyArray<string>, phase: string): void => {
  for (const s of subjects) {
    const { sids, doubled } = reportedOnce(s)
    assert.equal(sids, [...expected].sort(), `${s.label}: every session of ${phase}, none lost`)
    assert.is(doubled, 0, `${s.label}: none doubled`)
    assert.equal(s.warnings, [], `${s.label}: no warning`)
  }
}

/** The port of the master of each slot range (`CLUSTER SLOTS` on a live node). */
const slotOwners = async (cluster: RedisCluster, live: number): Promise<(slot: number) => number> => {
  const ranges = (await cluster.command(live, ['CLUSTER', 'SLOTS'])) as ReadonlyArray<
    readonly [number, number, readonly [string, number]]
  >
  return (slot) => ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1] ?? -1
}

/** Pattern subscriptions on the node on `port` (0 when it does not answer). */
const subscribersOn = async (cluster: RedisCluster, port: number): Promise<number> =>
  String(await cluster.command(port, ['CLIENT', 'LIST', 'TYPE', 'pubsub']).catch(() => ''))
    .split('\n')
    .filter((line) => / psub=[1-9]/.test(line)).length

/** `n` session ids, `tag-0`…, and the masters their keys under `prefix` fall on. */
const idsOn = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`)

/** Saves `sid` with a TTL of `ms`, tried again while the cluster is still moving (a failover just done). */
const save = async (s: Subject, sid: string, ms: number): Promise<void> => {
  for (let attempt = 1; ; attempt++) {
    try {
      await s.store.access.set(sid, session_(ms))
      return
    } catch (e) {
      if (attempt >= 20) throw e
      await sleep(100)
    }
  }
}

const test = suite('expiredEvents on a Redis Cluster, across a failover')

test('one event per expiry on every master, none for a tombstone; across a master killed and replaced, none lost, none doubled', async () => {
  const cluster = await startCluster({ serverArgs: ['--notify-keyspace-events', 'Khx'] })
  const subjects: Array<Subject> = []
  try {
    for (const [label, make] of families) {
      const client = make(cluster)
      const prefix = `x${subjects.length}:`
      const store = createRedisStore(client.client, {
        prefix,
        expiredEvents: true,
        concurrencyGraceSeconds: 1,
        checkEvictionPolicy: false,
        operationTimeoutMs: 1_000
      })
      const subject: Subject = { label, prefix, store, client, expired: [], warnings: [] }
      store.on('expired', (e: { sid: string }) => subject.expired.push(e.sid))
      store.on('warning', (m: string) => subject.warnings.push(m))
      subjects.push(subject)
    }
    await Promise.all(subjects.map((s) => s.client.connect()))
    // Every store subscribed on every node, masters and replicas.
    let counts: ReadonlyArray<number> = []
    const upMs = await pollUntil('a subscriber of every store on every node', 10_000, async () => {
      counts = await Promise.all(cluster.ports.map((p) => subscribersOn(cluster, p)))
      return counts.every((n) => n === subjects.length)
    }).catch((e: Error) => assert.unreachable(`${e.message} (subscribers by node: ${counts.join(', ')})`) as never)
    const masters = await cluster.masters()
    const owner = await slotOwners(cluster, masters[0] ?? 0)

    // (1) Sessions on every master expire, tombstones expire.
    const first = idsOn('a', 24)
    const destroyed = idsOn('d', 6)
    for (const s of subjects) {
      const on = new Set(first.map((sid) => owner(keySlot(`${s.prefix}${sid}`))))
      assert.equal([...on].sort(), [...masters], `${s.label}: the sessions fall on every master`)
      for (const sid of destroyed) await save(s, sid, 60_000)
      for (const sid of destroyed) await s.store.access.destroy(sid)
      for (const sid of first) await save(s, sid, 500)
    }
    const firstMs = await pollUntil('every expiry of (1) reported', 10_000, () =>
      subjects.every((s) => reportedOnce(s).sids.length >= first.length)
    )
    // The tombstones (1 s) have ended by now; a little more for a stray event.
    await sleep(1_500)
    assertReported(subjects, first, '(1), no tombstone')
    console.log(
      `[expired-cluster] subscribed on all ${cluster.ports.length} nodes ${upMs} ms after connect; ${first.length} sessions × ${subjects.length} stores reported ${firstMs} ms after the last save, ${destroyed.length} tombstones each not reported`
    )

    // (2) A master killed, its replica promoted.
    const victim = masters[0] ?? 0
    const [replica] = await cluster.replicasOf(victim)
    assert.ok(replica !== undefined, 'the victim has a replica')
    await replicaStreaming(cluster.command, victim)
    const before = idsOn('b', 24)
    for (const s of subjects) for (const sid of before) await save(s, sid, 1_500)
    const onVictim = subjects.map((s) => before.filter((sid) => owner(keySlot(`${s.prefix}${sid}`)) === victim))
    assert.ok(
      onVictim.every((ids) => ids.length > 0),
      'every store has sessions on the master killed'
    )
    await pollUntil(
      'the replica has every write',
      5_000,
      async () => (await replicationGap(cluster.command, victim, replica)) === 0
    )
    for (const s of subjects) s.expired.length = 0
    const killedAt = Date.now()
    cluster.signal(victim, 'SIGKILL')
    await pollUntil('the master dead', 5_000, async () =>
      cluster.command(victim, ['PING']).then(
        () => false,
        () => true
      )
    )
    const promotedMs = await pollUntil('the replica promoted', 20_000, async () =>
      (await cluster.masters().catch((): ReadonlyArray<number> => [])).includes(replica)
    )
    // The victim's sessions expired on the replica's clock while it could not expire them: reported once promoted.
    await pollUntil('every expiry of (2) reported', 20_000, () =>
      subjects.every((s) => reportedOnce(s).sids.length >= before.length)
    )
    const beforeMs = Date.now() - killedAt
    await sleep(1_000)
    assertReported(subjects, before, '(2)')
    console.log(
      `[expired-cluster] failover: replica promoted ${promotedMs} ms after the kill; the ${
        before.length
      } sessions of each store (${onVictim
        .map((ids) => ids.length)
        .join('/')} on the killed master, 1.5 s TTLs) all reported ${beforeMs} ms after the kill; 0 lost, 0 doubled`
    )

    // (3) The killed node started again by a supervisor: it rejoins as the promoted master's replica (node-redis v4
    // finds the new master through its MOVED) and is subscribed to again; sessions saved on the new topology, the
    // promoted master among its nodes, are each reported once.
    await cluster.restart(victim)
    const backMs = await pollUntil(
      'the restarted node subscribed to again',
      20_000,
      async () => (await subscribersOn(cluster, victim)) === subjects.length
    )
    for (const s of subjects) s.expired.length = 0
    const after = idsOn('c', 24)
    for (const s of subjects) for (const sid of after) await save(s, sid, 300)
    const promotedOwner = await slotOwners(cluster, replica)
    assert.ok(
      subjects.every((s) => after.some((sid) => promotedOwner(keySlot(`${s.prefix}${sid}`)) === replica)),
      'every store has sessions on the promoted master'
    )
    const afterMs = await pollUntil('every expiry after the failover reported', 10_000, () =>
      subjects.every((s) => reportedOnce(s).sids.length >= after.length)
    )
    await sleep(1_000)
    assertReported(subjects, after, '(3)')
    console.log(
      `[expired-cluster] the killed node restarted: subscribed to again within ${backMs} ms of its start; ${after.length} sessions saved on the new topology reported ${afterMs} ms after the last save; 0 lost, 0 doubled`
    )
  } finally {
    subjects.forEach((s) => s.client.stop())
    await cluster.stop()
  }
})

test.run()
