/**
 * Starts a throwaway Redis Cluster (3 masters, 1 replica each by default) on free loopback ports for
 * integration specs, and stops every node by PID. Each node is a `redis-server` child of this process
 * (SIGKILLed if this process exits first, as in `redis-server.ts`); `startCluster` resolves once every node
 * reports `cluster_state:ok`, all 16384 slots are assigned and every replica's link to its master is up.
 */
import { execFile } from 'child_process'
import { createCluster as createCluster6 } from 'redis'
import { join } from 'path'
import { command, distinctFreePorts, makeProcessGroup, waitFor } from './redis-group'
import { launchRedis } from './redis-server'
import type { createRedisStore } from '../../src'

export interface RedisCluster {
  /** One entry per node, for `createCluster({ rootNodes })`. */
  readonly rootNodes: ReadonlyArray<{ readonly url: string }>
  /** Every node's port, masters and replicas alike. */
  readonly ports: ReadonlyArray<number>
  /** How long `startCluster` took, in ms. */
  readonly startMs: number
  /** The ports of the current masters (from `CLUSTER NODES` on a live node), ascending. */
  readonly masters: () => Promise<ReadonlyArray<number>>
  /** Sends `sig` to the node on `port` (by PID). */
  readonly signal: (port: number, sig: NodeJS.Signals) => void
  /** The ports of the replicas of the master on `port` (from `CLUSTER NODES` on a live node). */
  readonly replicasOf: (port: number) => Promise<ReadonlyArray<number>>
  /** Sends one command to the node on `port` through a throwaway connection. */
  readonly command: (port: number, args: ReadonlyArray<string>) => Promise<unknown>
  /**
   * Starts the (killed) node on `port` again with its own `nodes.conf`, as a supervisor would; resolves once
   * it accepts connections (it rejoins the cluster on its own).
   */
  readonly restart: (port: number) => Promise<void>
  /** SIGKILLs every node and removes the temp dir. */
  readonly stop: () => Promise<void>
}

const MASTERS = 3
const SLOTS = 16384

const run = (cmd: string, args: ReadonlyArray<string>, timeoutMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`))
      else resolve(stdout)
    })
  })

/** `CLUSTER NODES` lines: `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slots…>`. */
const parseNodes = (nodes: string) =>
  nodes
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter(([, addr = '']) => addr !== '')
    .map(([id = '', addr = '', flags = '', master = '', , , , , ...slots]) => ({
      id,
      port: Number(/:(\d+)@/.exec(addr)?.[1]),
      flags: flags.split(','),
      master,
      slots: slots.filter((range) => /^\d/.test(range)).length
    }))

/**
 * The masters serving slots. A killed master restarted after its failover claims to be a master with no slots
 * for a moment, until it learns it was replaced; the others' views may list it so a while longer (gossip):
 * it serves nothing, so it is no master here.
 */
const parseMasters = (nodes: string): ReadonlyArray<number> =>
  parseNodes(nodes)
    .filter((n) => n.flags.includes('master') && n.slots > 0 && !n.flags.some((f) => /fail/.test(f)))
    .map((n) => n.port)
    .filter((p) => Number.isInteger(p) && p > 0)
    .sort((a, b) => a - b)

const parseReplicasOf = (nodes: string, port: number): ReadonlyArray<number> => {
  const all = parseNodes(nodes)
  const master = all.find((n) => n.port === port)
  return all
    .filter((n) => master !== undefined && n.master === master.id && !n.flags.some((f) => /fail/.test(f)))
    .map((n) => n.port)
    .sort((a, b) => a - b)
}

const clusterReady = async (port: number, nodes: number): Promise<string | null> => {
  const info = String(await command(port, ['CLUSTER', 'INFO']))
  const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1]
  if (field('cluster_state') !== 'ok') return `cluster_state:${field('cluster_state')}`
  if (Number(field('cluster_slots_ok')) !== SLOTS) return `cluster_slots_ok:${field('cluster_slots_ok')}`
  if (Number(field('cluster_known_nodes')) !== nodes) return `cluster_known_nodes:${field('cluster_known_nodes')}`
  const replication = String(await command(port, ['INFO', 'replication']))
  if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return 'replica link not up'
  return null
}

/** Polls every node until it is ready; throws with the last reasons once `deadline` passes. */
const waitForCluster = (ports: ReadonlyArray<number>, deadline: number): Promise<void> =>
  waitFor('Redis Cluster', deadline, async () => {
    const reasons = await Promise.all(
      ports.map((p) =>
        clusterReady(p, ports.length).then(
          (r) => (r === null ? null : `${p}: ${r}`),
          (e: Error) => `${p}: ${e.message}`
        )
      )
    )
    const pending = reasons.filter((r): r is string => r !== null)
    if (pending.length > 0) return pending.join('; ')
    // Every node agrees on 3 masters holding every slot.
    const masters = parseMasters(String(await command(ports[0] ?? 0, ['CLUSTER', 'NODES'])))
    return masters.length === MASTERS ? null : `${masters.length} masters`
  })

export interface ClusterOptions {
  /** Replicas of each of the 3 masters. Default 1. */
  readonly replicasPerMaster?: number
  /** Default 20 000 ms. */
  readonly timeoutMs?: number
  /** More `redis-server` arguments for every node, on every (re)start (e.g. `['--notify-keyspace-events', 'Khx']`). */
  readonly serverArgs?: ReadonlyArray<string>
}

export const startCluster = async (options: ClusterOptions = {}): Promise<RedisCluster> => {
  const { replicasPerMaster = 1, timeoutMs = 20_000, serverArgs = [] } = options
  const started = Date.now()
  const deadline = started + timeoutMs
  const group = makeProcessGroup('cluster')
  const { dir, procs: nodes, stop } = group
  const argsOf = (port: number) => [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout',
    '2000',
    // Replicas sync at once (Redis 7 waits 5 s by default): a replica that never synced is never promoted.
    '--repl-diskless-sync-delay',
    '0',
    ...serverArgs
  ]
  try {
    const ports = await distinctFreePorts(MASTERS * (1 + replicasPerMaster))
    await Promise.all(ports.map((port) => launchRedis(port, dir, argsOf(port)).then((l) => nodes.set(port, l))))
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes'
      ],
      Math.max(1_000, deadline - Date.now())
    )
    await waitForCluster(ports, deadline)
    const startMs = Date.now() - started
    const alive = () => ports.filter(group.alive)
    const clusterNodes = async (): Promise<string> => {
      for (const p of alive()) {
        try {
          return String(await command(p, ['CLUSTER', 'NODES']))
        } catch {
          // a stopped (SIGSTOP) node times out: ask the next one
        }
      }
      throw new Error('no cluster node answered CLUSTER NODES')
    }
    return {
      rootNodes: ports.map((p) => ({ url: `redis://127.0.0.1:${p}` })),
      ports,
      startMs,
      masters: async () => parseMasters(await clusterNodes()),
      replicasOf: async (port) => parseReplicasOf(await clusterNodes(), port),
      signal: group.signal,
      command,
      restart: async (port) => {
        if (group.alive(port)) throw new Error(`the node on ${port} is still running`)
        nodes.set(port, await launchRedis(port, dir, argsOf(port)))
      },
      stop
    }
  } catch (e) {
    await stop()
    throw e
  }
}

/** Reconnect quickly: every 50 ms more, at most every 500 ms (the failover specs' backoff). */
export const quickBackoff = (n: number): number => Math.min(Math.max(n, 1) * 50, 500)

/** A cluster client under test: what the store is given, and how to connect and close it. */
export interface ClusterSubject {
  readonly client: Parameters<typeof createRedisStore>[0]
  readonly connect: () => Promise<unknown>
  readonly stop: () => void
}

/** What a spec calls on a node-redis `createCluster()` of any major besides the adapter's contract. */
interface NodeRedisCluster {
  connect(): Promise<unknown>
  /** v5 and v6; v4 has `disconnect` only. */
  destroy?: () => unknown
  disconnect(): Promise<unknown>
  on(event: string, listener: (...args: ReadonlyArray<unknown>) => void): unknown
}

/** A node-redis cluster client of any major as a subject: errors ignored, stopped at once (twice is harmless). */
export const nodeRedisClusterSubject = (cluster: unknown): ClusterSubject => {
  const c = cluster as NodeRedisCluster
  c.on('error', () => undefined)
  return {
    client: cluster as ClusterSubject['client'],
    connect: () => c.connect(),
    stop: () => {
      try {
        if (typeof c.destroy === 'function') c.destroy()
        else c.disconnect().catch(() => undefined)
      } catch {
        // already closed
      }
    }
  }
}

/**
 * The node-redis v6 row of the cluster specs: a `createCluster` on the spec cluster's nodes, quick reconnects, and
 * the slot map refreshed 500 ms into a node's reconnection attempts (not after the default 5 s).
 */
export const NODE_REDIS_6_CLUSTER_ROW = [
  'node-redis v6',
  ({ rootNodes }: Pick<RedisCluster, 'rootNodes'>): ClusterSubject =>
    nodeRedisClusterSubject(
      createCluster6({
        rootNodes: rootNodes.map((n) => ({ ...n })),
        defaults: { socket: { connectTimeout: 500, reconnectStrategy: quickBackoff } },
        topologyRefreshOnReconnectionAttemptStrategy: 500
      })
    )
] as const
