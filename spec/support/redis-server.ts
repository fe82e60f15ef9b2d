/**
 * Starts a throwaway `redis-server` on a free loopback port for integration specs, and stops it by PID.
 */
import { spawn, type ChildProcess } from 'child_process'
import { mkdtempSync, rmSync } from 'fs'
import { createServer, connect } from 'net'
import { tmpdir } from 'os'
import { join } from 'path'

export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly pid: number
  /** Runs `redis-cli`-like raw commands through a throwaway connection is left to callers; this just stops it. */
  readonly stop: () => Promise<void>
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => resolve(port))
    })
  })

/** Polls until something accepts connections on 127.0.0.1:`port`; throws once `Date.now()` passes `deadline`. */
export const waitForPort = async (port: number, deadline: number, pollMs = 20): Promise<void> => {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.end()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on 127.0.0.1:${port}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export interface Launched {
  readonly child: ChildProcess
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>
}

/**
 * Spawns `redis-server` on 127.0.0.1:`port` (no RDB, no AOF unless `extraArgs` say so, data in `dir`) as a
 * child of this process, SIGKILLed if this process exits first; resolves once it accepts connections.
 */
export const launchRedis = async (
  port: number,
  dir: string,
  extraArgs: ReadonlyArray<string> = [],
  pollMs?: number
): Promise<Launched> => {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--protected-mode',
      'yes',
      ...extraArgs
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] }
  )
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  void exited.then(() => running.delete(child))
  await waitForPort(port, Date.now() + 10_000, pollMs)
  return { child, exited }
}

/** Extra `redis-server` arguments, e.g. `['--maxmemory', '2mb']`. */
export const startRedis = async (extraArgs: ReadonlyArray<string> = []): Promise<RedisServer> => {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'crs-redis-'))
  const { child, exited } = await launchRedis(port, dir, extraArgs)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * Spawns `redis-server` with exactly `args` (e.g. `[confFile, '--sentinel']`: a config file must come first)
 * as a child of this process, SIGKILLed if this process exits first; resolves once 127.0.0.1:`port` accepts
 * connections (the config or `args` must make it listen there).
 */
export const launchRedisWith = async (
  port: number,
  args: ReadonlyArray<string>,
  pollMs?: number
): Promise<Launched> => {
  const child = spawn('redis-server', [...args], { stdio: ['ignore', 'ignore', 'inherit'] })
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  void exited.then(() => running.delete(child))
  await waitForPort(port, Date.now() + 10_000, pollMs)
  return { child, exited }
}
