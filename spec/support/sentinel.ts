/**
 * Starts a throwaway Redis Sentinel set on free loopback ports for integration specs: a primary (AOF with
 * `appendfsync always`, so acknowledged writes survive), one replica (or more) and one sentinel (`redis-server
 * <conf> --sentinel`, quorum 1, down after 1 s), and stops every process by PID. Each process is a
 * `redis-server` child of this process (SIGKILLed if this process exits first, as in `redis-server.ts`);
 * `startSentinelSet` resolves once the replica's link is up and the sentinel reports the master.
 */
import { mkdtempSync, writeFileSync } from 'fs'
import { join } from 'path'
import { command, distinctFreePorts, makeProcessGroup, waitFor } from './redis-group'
import { launchRedis, launchRedisWith } from './redis-server'

export interface SentinelSet {
  /** The monitored master's name, for `createSentinel({ name })` / ioredis `{ name }`. */
  readonly name: 'mymaster'
  readonly sentinel: { readonly host: string; readonly port: number }
  readonly primaryPort: number
  /** The first replica's port. */
  readonly replicaPort: number
  /** Every replica's port. */
  readonly replicaPorts: ReadonlyArray<number>
  /** How long `startSentinelSet` took, in ms. */
  readonly startMs: number
  /** Sends `sig` to the process on `port` (by PID). */
  readonly signal: (port: number, sig: NodeJS.Signals) => void
  /** The master's port, as the sentinel reports it. */
  readonly currentMaster: () => Promise<number>
  /** Sends one command to the process on `port` through a throwaway connection. */
  readonly command: (port: number, args: ReadonlyArray<string>) => Promise<unknown>
  /** SIGKILLs every process and removes the temp dir. */
  readonly stop: () => Promise<void>
}

const NAME = 'mymaster'

const masterOf = async (sentinelPort: number): Promise<number> => {
  const reply = (await command(sentinelPort, [
    'SENTINEL',
    'get-master-addr-by-name',
    NAME
  ])) as ReadonlyArray<string> | null
  const port = Number(reply?.[1])
  if (!Number.isInteger(port) || port <= 0) throw new Error(`the sentinel knows no master ${NAME}`)
  return port
}

export interface SentinelSetOptions {
  /** Default 1. */
  readonly replicas?: number
  /** Default 15 000 ms. */
  readonly timeoutMs?: number
}

export const startSentinelSet = async (options: SentinelSetOptions = {}): Promise<SentinelSet> => {
  const { replicas = 1, timeoutMs = 15_000 } = options
  const started = Date.now()
  const deadline = started + timeoutMs
  const group = makeProcessGroup('sentinel')
  const { dir, procs, stop } = group
  try {
    const [primaryPort = 0, sentinelPort = 0, ...replicaPorts] = await distinctFreePorts(2 + replicas)
    const replicaPort = replicaPorts[0] ?? 0
    // Each data node in its own dir: their AOF files must not collide.
    const primaryDir = mkdtempSync(join(dir, 'primary-'))
    const durable = ['--appendonly', 'yes', '--appendfsync', 'always']
    // No 5 s wait before the replica's first (diskless) sync.
    procs.set(primaryPort, await launchRedis(primaryPort, primaryDir, [...durable, '--repl-diskless-sync-delay', '0']))
    for (const port of replicaPorts) {
      const replicaDir = mkdtempSync(join(dir, 'replica-'))
      procs.set(
        port,
        await launchRedis(port, replicaDir, [...durable, '--replicaof', '127.0.0.1', String(primaryPort)])
      )
    }
    await waitFor('the replicas', deadline, async () => {
      const infos = await Promise.all(replicaPorts.map((p) => command(p, ['INFO', 'replication']).then(String)))
      return infos.every((info) => /master_link_status:up/.test(info)) ? null : 'master_link_status is not up'
    })
    // After a diskless sync the replica reports its link up at once, but the primary streams nothing to it
    // until the replica's first REPLCONF ACK (sent once a second): writes made meanwhile and then lost with
    // a killed primary would be a measurement artefact. Wait until a write reaches the replica.
    const probe = `sentinel-set:probe:${Date.now()}`
    await command(primaryPort, ['SET', probe, '1'])
    await waitFor('replication to the replicas', deadline, async () => {
      const seen = await Promise.all(replicaPorts.map((p) => command(p, ['EXISTS', probe])))
      return seen.every((n) => n === 1) ? null : 'a write on the primary has not reached them'
    })
    await command(primaryPort, ['DEL', probe])

    // Sentinel rewrites its config file: it must be a writable file of its own.
    const conf = join(dir, 'sentinel.conf')
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${NAME} 127.0.0.1 ${primaryPort} 1`,
        `sentinel down-after-milliseconds ${NAME} 1000`,
        `sentinel failover-timeout ${NAME} 3000`,
        `sentinel parallel-syncs ${NAME} 1`,
        ''
      ].join('\n')
    )
    procs.set(sentinelPort, await launchRedisWith(sentinelPort, [conf, '--sentinel']))
    await waitFor('the sentinel', deadline, async () => {
      const port = await masterOf(sentinelPort)
      if (port !== primaryPort) return `it reports ${port}, not ${primaryPort}`
      // The sentinel has found the replicas (through the primary's INFO): a failover has somewhere to go.
      const known = (await command(sentinelPort, ['SENTINEL', 'replicas', NAME])) as ReadonlyArray<unknown>
      return known.length >= replicas ? null : `it knows ${known.length} replicas`
    })
    const startMs = Date.now() - started
    return {
      name: NAME,
      sentinel: { host: '127.0.0.1', port: sentinelPort },
      primaryPort,
      replicaPort,
      replicaPorts,
      startMs,
      signal: group.signal,
      currentMaster: () => masterOf(sentinelPort),
      command,
      stop
    }
  } catch (e) {
    await stop()
    throw e
  }
}
