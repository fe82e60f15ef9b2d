/**
 * One outage under HTTP load, measured: a redis-server owned by this process, a node-redis v6 client (or a Valkey
 * GLIDE one), the
 * store with `operationTimeoutMs`, an Express 5 app, virtual users looping login → me → logout for a fixed
 * time; a fault is injected at a fixed time and healed after a fixed time. `runOutage` returns everything
 * the oracles need and asserts nothing; `reportOutage` prints a run and `assertOutage` holds the oracles
 * every outage spec checks.
 */
import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import * as assert from 'uvu/assert'
import { createClient, type RedisClientOptions } from 'redis'
import { createRedisStore, type WhenDisconnected } from '../../src'
import { fromValkeyGlide } from '../../src/valkey-glide'
import { glideClient } from '../support/glide'
import {
  auditSessions,
  now,
  report,
  runLoad,
  serveApp,
  sleep,
  spawnRedis,
  summarize,
  timeOperations,
  type LoadSummary,
  type OwnedRedis,
  type Sample
} from './support'

export interface OutagePlan {
  readonly users: number
  readonly deadlineMs: number
  /** The store's `whenDisconnected` option. */
  readonly whenDisconnected: WhenDisconnected
  /** node-redis options besides the URL, or a Valkey GLIDE client with its `requestTimeout` (GLIDE's default if absent). */
  readonly client: Omit<RedisClientOptions, 'url'> | { readonly glide: { readonly requestTimeout?: number } }
  /** Extra redis-server arguments (kept across a restart). */
  readonly serverArgs: ReadonlyArray<string>
  /** Load before the fault, fault duration, load after healing; ms. */
  readonly faultAtMs: number
  readonly faultForMs: number
  readonly afterHealMs: number
  /** Injects the fault into the running server; resolves once it is in effect (the process gone, or stopped). */
  readonly inject: (server: OwnedRedis) => Promise<void>
  /** Heals it; returns the server now running (the same one, or a new one on the same port). */
  readonly heal: (server: OwnedRedis, restart: () => Promise<OwnedRedis>) => Promise<OwnedRedis>
}

export interface OutageResult {
  readonly summary: LoadSummary
  /** Longest store operation (call → callback) and how many there were. */
  readonly longestOpMs: number
  readonly ops: number
  readonly opErrors: number
  /** Requests that failed before the fault was injected (must be 0). */
  readonly failedBeforeFault: number
  /**
   * Requests that ran wholly inside the outage (started once the fault was in effect, ended before the heal
   * began), and how many of them succeeded: Redis could not have answered any of them.
   */
  readonly insideOutage: number
  readonly servedInsideOutage: number
  /** From healing to the end of the first request that started after healing and succeeded; -1 if none. */
  readonly recoveryMs: number
  /** Requests that started after the first success after healing and still failed. */
  readonly failedAfterRecovery: number
  /** The store's connect/disconnect events, in order, with their time relative to the fault. */
  readonly storeEvents: ReadonlyArray<{ readonly event: string; readonly atMs: number }>
  readonly healAtMs: number
  readonly lost: number
  readonly resurrected: number
  readonly kept: number
  readonly destroyed: number
  /** Errors express-session passed on after the response was sent (failed touch at the end of /me). */
  readonly lateErrors: number
  readonly clientErrorEvents: number
  readonly clientReadyAtEnd: boolean
  readonly samples: ReadonlyArray<Sample>
}

/** The store's client in an outage run: what the store is given, its state at the end, and how to drop it. */
interface OutageClient {
  readonly store: Parameters<typeof createRedisStore>[0]
  readonly errorEvents: () => number
  readonly isReady: () => boolean
  readonly destroy: () => void
}

const outageClient = async (options: OutagePlan['client'], url: string): Promise<OutageClient> => {
  if ('glide' in options) {
    const glide = await glideClient(url, options.glide.requestTimeout)
    const store = fromValkeyGlide(glide)
    // GLIDE has no error events, and is "ready" until closed.
    return { store, errorEvents: () => 0, isReady: () => store.connection.isReady(), destroy: () => glide.close() }
  }
  const client = createClient({ ...options, url })
  let errorEvents = 0
  client.on('error', () => errorEvents++)
  await client.connect()
  return {
    store: client,
    errorEvents: () => errorEvents,
    isReady: () => client.isReady,
    destroy: () => client.destroy()
  }
}

export const runOutage = async (plan: OutagePlan): Promise<OutageResult> => {
  const dir = mkdtempSync(join(tmpdir(), 'crs-outage-'))
  let server = await spawnRedis({ dir, args: plan.serverArgs })
  const port = server.port
  const restart = (): Promise<OwnedRedis> => spawnRedis({ port, dir, args: plan.serverArgs })
  const client = await outageClient(plan.client, server.url)
  try {
    const store = createRedisStore(client.store, {
      operationTimeoutMs: plan.deadlineMs,
      whenDisconnected: plan.whenDisconnected
    })
    const events: Array<{ event: string; at: number }> = []
    store.on('disconnect', () => events.push({ event: 'disconnect', at: now() }))
    store.on('connect', () => events.push({ event: 'connect', at: now() }))
    store.on('warning', () => undefined)
    const ops = timeOperations(store)
    const app = await serveApp(store)
    try {
      const t0 = now()
      const load = runLoad(app.port, plan.users, t0 + plan.faultAtMs + plan.faultForMs + plan.afterHealMs)
      await sleep(plan.faultAtMs)
      const faultAt = now()
      await plan.inject(server)
      const inEffectAt = now()
      await sleep(Math.max(0, faultAt + plan.faultForMs - now()))
      const healBeganAt = now()
      server = await plan.heal(server, restart)
      const healAt = now()
      await load.done
      const samples = load.samples
      const firstOk = samples.filter((s) => s.start >= healAt && s.ok).sort((a, b) => a.end - b.end)[0]
      const recoveredAt = firstOk?.end
      const { lost, resurrected } = await auditSessions(server.url, load)
      const inside = samples.filter((s) => s.start >= inEffectAt && s.end <= healBeganAt)
      return {
        summary: summarize(samples),
        longestOpMs: ops.longest,
        ops: ops.count,
        opErrors: ops.errors,
        failedBeforeFault: samples.filter((s) => s.end < faultAt && !s.ok).length,
        insideOutage: inside.length,
        servedInsideOutage: inside.filter((s) => s.ok).length,
        recoveryMs: recoveredAt === undefined ? -1 : recoveredAt - healAt,
        failedAfterRecovery:
          recoveredAt === undefined ? -1 : samples.filter((s) => s.start >= recoveredAt && !s.ok).length,
        storeEvents: events.map((e) => ({ event: e.event, atMs: Math.round(e.at - faultAt) })),
        healAtMs: Math.round(healAt - faultAt),
        lost,
        resurrected,
        kept: load.kept.size,
        destroyed: load.destroyed.size,
        lateErrors: app.lateErrors.length,
        clientErrorEvents: client.errorEvents(),
        clientReadyAtEnd: client.isReady(),
        samples
      }
    } finally {
      await app.close()
    }
  } finally {
    client.destroy()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Prints one outage run; `healKey` names the time of healing (`restartAtMs`, `sigcontAtMs`). */
export const reportOutage = (scenario: string, healKey: string, r: OutageResult): void =>
  report(scenario, {
    requests: r.summary.total,
    failed: r.summary.failed,
    failedBy: JSON.stringify(r.summary.failedCodes),
    insideOutage: r.insideOutage,
    servedInsideOutage: r.servedInsideOutage,
    longestRequestMs: Math.round(r.summary.longestMs),
    longestOpMs: Math.round(r.longestOpMs),
    [healKey]: r.healAtMs,
    recoveryMs: Math.round(r.recoveryMs),
    failedAfterRecovery: r.failedAfterRecovery,
    storeEvents: r.storeEvents.map((e) => `${e.event}@${e.atMs}`).join(',') || 'none',
    kept: r.kept,
    lost: r.lost,
    destroyed: r.destroyed,
    resurrected: r.resurrected,
    lateErrors: r.lateErrors
  })

export interface OutageOracle {
  /** Bound on every request, and on every store operation; ms. */
  readonly requestBoundMs: number
  readonly opBoundMs: number
  /** What the fault and its healing are called in the messages (`the kill`, `the restart`). */
  readonly fault: string
  readonly heal: string
}

/**
 * The oracles of every outage run: enough load; no failure before the fault, but the fault was felt: requests
 * ran wholly inside the outage and none of them succeeded (Redis could not answer them); every
 * request and every store operation within its bound, none hit the client-side timeout; the app recovered and
 * nothing failed after that; the client is ready; no acknowledged session lost, no acknowledged logout undone.
 */
export const assertOutage = (r: OutageResult, o: OutageOracle): void => {
  assert.ok(r.summary.total > 100, `enough load: ${r.summary.total} requests`)
  assert.is(r.failedBeforeFault, 0, `no failure before ${o.fault}`)
  assert.ok(r.insideOutage > 0, `requests ran wholly inside the outage: ${r.insideOutage}`)
  assert.is(r.servedInsideOutage, 0, `requests that Redis cannot have served while ${o.fault} lasted`)
  assert.ok(r.summary.failed > 0, `${o.fault} was felt by the app (the oracle can fail)`)
  assert.ok(
    r.summary.longestMs <= o.requestBoundMs,
    `longest request ${Math.round(r.summary.longestMs)} ms > ${o.requestBoundMs} ms`
  )
  assert.ok(r.longestOpMs <= o.opBoundMs, `longest store operation ${Math.round(r.longestOpMs)} ms > ${o.opBoundMs} ms`)
  assert.ok(r.summary.failedCodes['CLIENT'] === undefined, 'no request hit the client-side timeout')
  assert.ok(r.recoveryMs >= 0, `a request succeeded after ${o.heal}`)
  assert.is(r.failedAfterRecovery, 0, 'no request failed once the app had recovered')
  assert.ok(r.clientReadyAtEnd, 'the client is ready again (not terminated)')
  assert.is(r.lost, 0, 'acknowledged sessions survive')
  assert.is(r.resurrected, 0, 'acknowledged logouts stay logged out')
}
