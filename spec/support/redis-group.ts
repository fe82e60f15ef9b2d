/**
 * What the cluster and sentinel harnesses share: a group of `redis-server` processes this process owns, in one
 * temp dir (SIGKILLed by PID and the dir removed on `stop`, or when this process exits), distinct free ports,
 * one command on a throwaway connection, polling with a deadline, and counting keys of a type with `SCAN`.
 */
import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import { createClient } from 'redis'
import { freePort, type Launched } from './redis-server'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** One command on a short-lived node-redis client (no reconnects: a dead process is an error, not a hang). */
export const command = async (port: number, args: ReadonlyArray<string>): Promise<unknown> => {
  const client = createClient({
    url: `redis://127.0.0.1:${port}`,
    socket: { connectTimeout: 1_000, reconnectStrategy: false }
  })
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await client.sendCommand([...args])
  } finally {
    client.destroy()
  }
}

/** Polls `check` every `everyMs` until it holds; throws naming `what` after `ms`. Resolves to how long it took. */
export const pollUntil = async (
  what: string,
  ms: number,
  check: () => boolean | Promise<boolean>,
  everyMs = 20
): Promise<number> => {
  const since = Date.now()
  while (!(await check())) {
    if (Date.now() - since > ms) throw new Error(`${what}: not within ${ms} ms`)
    await sleep(everyMs)
  }
  return Date.now() - since
}

/** `n` free loopback ports, all different. */
export const distinctFreePorts = async (n: number): Promise<Array<number>> => {
  const ports: Array<number> = []
  while (ports.length < n) {
    const p = await freePort()
    if (!ports.includes(p)) ports.push(p)
  }
  return ports
}

/** Polls `check` (null once ready, else the reason) until it is ready; throws with the last reason after `deadline`. */
export const waitFor = async (what: string, deadline: number, check: () => Promise<string | null>): Promise<void> => {
  for (;;) {
    const reason = await check().catch((e: Error) => e.message)
    if (reason === null) return
    if (Date.now() > deadline) throw new Error(`${what} not ready in time: ${reason}`)
    await sleep(50)
  }
}

/** Temp dirs of groups not stopped yet, removed if this process exits first (`redis-server.ts` SIGKILLs the processes). */
const dirs = new Set<string>()
process.on('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

export interface ProcessGroup {
  /** The group's temp dir. */
  readonly dir: string
  /** The processes by port. */
  readonly procs: Map<number, Launched>
  /** Sends `sig` to the process on `port` (by PID). */
  readonly signal: (port: number, sig: NodeJS.Signals) => void
  /** Whether the process on `port` is still running. */
  readonly alive: (port: number) => boolean
  /** SIGKILLs every process, waits for the exits, removes the temp dir. */
  readonly stop: () => Promise<void>
}

/** An empty group with a fresh temp dir named after `what`. */
export const makeProcessGroup = (what: string): ProcessGroup => {
  const dir = mkdtempSync(join(tmpdir(), `crs-${what}-`))
  dirs.add(dir)
  const procs = new Map<number, Launched>()
  const running = (port: number): boolean => {
    const child = procs.get(port)?.child
    return child !== undefined && child.exitCode === null && child.signalCode === null
  }
  return {
    dir,
    procs,
    signal: (port, sig) => {
      const child = procs.get(port)?.child
      if (child === undefined) throw new Error(`no ${what} process on port ${port}`)
      child.kill(sig)
    },
    alive: running,
    stop: async () => {
      for (const [port, { child }] of procs) if (running(port)) child.kill('SIGKILL')
      await Promise.all([...procs.values()].map((p) => p.exited))
      rmSync(dir, { recursive: true, force: true })
      dirs.delete(dir)
    }
  }
}

/** How many keys matching `match` of `type` the node on `port` holds, by `SCAN … TYPE`. */
export const countKeys = async (
  send: (port: number, args: ReadonlyArray<string>) => Promise<unknown>,
  port: number,
  match: string,
  type: 'string' | 'hash'
): Promise<number> => {
  let total = 0
  let cursor = '0'
  do {
    const reply = await send(port, ['SCAN', cursor, 'MATCH', match, 'COUNT', '5000', 'TYPE', type])
    const [next, keys] = reply as readonly [string, ReadonlyArray<string>]
    total += keys.length
    cursor = next
  } while (cursor !== '0')
  return total
}
