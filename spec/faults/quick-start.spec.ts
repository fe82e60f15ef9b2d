/**
 * The README's quick start (the block `name:quick-start`: an Express app over `new RedisStore({ client })`
 * with the store's DEFAULT options and node-redis's default reconnect strategy) under a Redis outage, run as
 * written from the packed install, with 4 virtual users looping `GET /` on their own session.
 *
 * Oracles, for `kill -9` + restart on the same port and for SIGSTOP + SIGCONT: the app process stays up (an
 * unhandled 'error' would crash it); no request fails before the fault; every request that ran wholly inside
 * the outage (it started once the server was confirmed dead or stopped, `T` in /proc, and ended before the
 * heal began) fails, since Redis could not answer its `get`, and every user has such a request (the outage
 * outlasts two deadlines: a request that was waiting on a hung `set` when the fault began ends as a late 200,
 * because express-session writes the response before the save's callback); every request answers within the
 * default deadline (2000 ms) + 1500 ms, none hits the client-side timeout; every failed request is a 503
 * whose body names a store error code (never a 500, never a TypeError from a missing `req.session`); traffic
 * recovers soon after Redis is back and nothing fails after that; sessions survive (Redis runs with
 * `appendfsync always`): each user's view count never goes back and keeps counting after the recovery.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { rethrowSetupError } from '../helpers'
import { makeCompiler } from '../support/compile'
import { requestText } from '../support/http'
import { installPacked } from '../support/pack'
import { kindOf, LOOPBACK_PRELOAD, namedBlock, readReadme, startApp, type AppProcess } from '../support/readme'
import { freePort } from '../support/redis-server'
import {
  faultsEnabled,
  now,
  PREFIX,
  report,
  sleep,
  spawnRedis,
  stopProcess,
  withAdmin,
  type OwnedRedis
} from './support'

/** The store's default operationTimeoutMs, and the slack on top of it on a busy 2-core machine. */
const DEFAULT_DEADLINE_MS = 2_000
const SLACK_MS = 1_500
const REQUEST_BOUND_MS = DEFAULT_DEADLINE_MS + SLACK_MS
const CLIENT_TIMEOUT_MS = 10_000
const USERS = 4
/** Error codes a store failure may carry. */
const STORE_CODES = /\b(ETIMEDOUT|ESESSION_REDIS|ESESSION_UNAVAILABLE)\b/

interface Sample {
  readonly user: number
  readonly start: number
  readonly end: number
  readonly ms: number
  /** HTTP status; 0 when the request failed client-side (timeout, connection error). */
  readonly status: number
  readonly text: string
  /** `Views: N` of a 200. */
  readonly views: number | undefined
  /** The store error code the body names, if any. */
  readonly code: string | undefined
}

const ok = (s: Sample): boolean => s.status === 200 && s.views !== undefined

interface Plan {
  readonly name: string
  readonly healKey: string
  readonly faultAtMs: number
  readonly faultForMs: number
  readonly afterHealMs: number
  /** Resolves once the fault has taken effect (the process is gone, or stopped: `T`). */
  readonly inject: (server: OwnedRedis) => Promise<void>
  readonly heal: (server: OwnedRedis, restart: () => Promise<OwnedRedis>) => Promise<OwnedRedis>
  /** Codes a failed request may name. */
  readonly codes: RegExp
  readonly recoveryBoundMs: number
}

interface Outcome {
  readonly samples: ReadonlyArray<Sample>
  readonly faultAt: number
  /** When the fault was confirmed in effect. */
  readonly inEffectAt: number
  /** When the heal began (SIGCONT sent, or the restart started). */
  readonly healBeganAt: number
  readonly healAt: number
  readonly app: AppProcess
  readonly appAliveAtEnd: boolean
  /** Session keys in Redis at the end, and the views stored in them. */
  readonly storedViews: ReadonlyArray<number>
}

interface State {
  setupError?: unknown
  consumer: string
  /** The quick start, ready to run with node. */
  file: string
  preload: string
}

/** One scenario: a fresh redis-server (AOF, fsync always) and the quick start over it, under load. */
const runScenario = async (state: State, plan: Plan): Promise<Outcome> => {
  const args = ['--appendonly', 'yes', '--appendfsync', 'always']
  const dir = mkdtempSync(join(tmpdir(), 'crs-quick-'))
  let server = await spawnRedis({ dir, args })
  const restart = (): Promise<OwnedRedis> => spawnRedis({ port: server.port, dir, args })
  const port = await freePort()
  let app: AppProcess | undefined
  try {
    app = await startApp(state.file, state.consumer, state.preload, port, { REDIS_URL: server.url })
    const samples: Array<Sample> = []
    const t0 = now()
    const stopAt = t0 + plan.faultAtMs + plan.faultForMs + plan.afterHealMs
    const user = async (u: number): Promise<void> => {
      let cookie: string | undefined
      while (now() < stopAt) {
        const start = now()
        const r = await requestText(port, 'GET', '/', cookie, CLIENT_TIMEOUT_MS).then(
          (reply) => reply,
          (e: Error) => ({ status: 0, text: e.message, cookie: undefined })
        )
        const end = now()
        const views = r.status === 200 ? Number(/Views: (\d+)/.exec(r.text)?.[1] ?? NaN) : NaN
        samples.push({
          user: u,
          start,
          end,
          ms: end - start,
          status: r.status,
          text: r.text.slice(0, 200),
          views: Number.isNaN(views) ? undefined : views,
          code: STORE_CODES.exec(r.text)?.[1]
        })
        if (r.status === 200 && r.cookie !== undefined) cookie = r.cookie
        await sleep(r.status === 200 ? 10 : 50)
      }
    }
    const load = Promise.all(Array.from({ length: USERS }, (_, u) => user(u)))
    await sleep(plan.faultAtMs)
    const faultAt = now()
    await plan.inject(server)
    const inEffectAt = now()
    await sleep(Math.max(0, faultAt + plan.faultForMs - now()))
    const healBeganAt = now()
    server = await plan.heal(server, restart)
    const healAt = now()
    await load
    const appAliveAtEnd = app.alive()
    const storedViews = await withAdmin(server.url, async (admin) => {
      const keys = await admin.keys(`${PREFIX}*`)
      const values = keys.length === 0 ? [] : await admin.mGet(keys)
      return values.map((v) => Number((JSON.parse(v ?? '{}') as { views?: unknown }).views ?? NaN))
    })
    return { samples, faultAt, inEffectAt, healBeganAt, healAt, app, appAliveAtEnd, storedViews }
  } finally {
    await app?.stop()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const count = (xs: ReadonlyArray<string>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const x of xs) out[x] = (out[x] ?? 0) + 1
  return out
}

const check = (plan: Plan, o: Outcome): void => {
  const { samples, faultAt, healAt } = o
  const failed = samples.filter((s) => !ok(s))
  // Requests that ran wholly inside the outage: Redis could not answer their get.
  const inside = samples.filter((s) => s.start >= o.inEffectAt && s.end <= o.healBeganAt)
  const insideOk = inside.filter(ok)
  const usersInside = new Set(inside.map((s) => s.user)).size
  const firstOk = samples.filter((s) => s.start >= healAt && ok(s)).sort((a, b) => a.end - b.end)[0]
  const recoveryMs = firstOk === undefined ? -1 : firstOk.end - healAt
  const failedAfterRecovery = firstOk === undefined ? [] : failed.filter((s) => s.start >= firstOk.end)
  const longest = samples.reduce((m, s) => Math.max(m, s.ms), 0)
  const byUser = Array.from({ length: USERS }, (_, u) =>
    samples.filter((s) => s.user === u && ok(s)).map((s) => s.views ?? 0)
  )
  const wentBack = byUser.filter((v) => v.some((x, i) => i > 0 && x < (v[i - 1] ?? 0))).length
  const beforeMax = (u: number): number =>
    Math.max(0, ...samples.filter((s) => s.user === u && ok(s) && s.end < faultAt).map((s) => s.views ?? 0))
  const afterMax = (u: number): number =>
    Math.max(0, ...samples.filter((s) => s.user === u && ok(s) && s.start >= healAt).map((s) => s.views ?? 0))
  const keptCounting = Array.from({ length: USERS }, (_, u) => afterMax(u) > beforeMax(u) && beforeMax(u) > 1).filter(
    Boolean
  ).length
  const outcomes = count(
    failed.map((s) => `${s.status} ${s.code ?? (s.status === 0 ? 'CLIENT' : JSON.stringify(s.text.slice(0, 60)))}`)
  )

  report(`quick start, ${plan.name}`, {
    requests: samples.length,
    failed: failed.length,
    failedBy: JSON.stringify(outcomes),
    insideOutage: inside.length,
    usersInside: `${usersInside}/${USERS}`,
    statuses: JSON.stringify(count(samples.map((s) => String(s.status)))),
    longestRequestMs: Math.round(longest),
    [plan.healKey]: Math.round(healAt - faultAt),
    recoveryMs: Math.round(recoveryMs),
    failedAfterRecovery: failedAfterRecovery.length,
    usersKeptCounting: `${keptCounting}/${USERS}`,
    viewsWentBack: wentBack,
    storedSessions: o.storedViews.length,
    appAlive: o.appAliveAtEnd
  })
  const example = (xs: ReadonlyArray<Sample>): string =>
    xs
      .slice(0, 3)
      .map((s) => `${s.status} after ${Math.round(s.ms)} ms: ${JSON.stringify(s.text)}`)
      .join('; ')
  const appOutput = (): string =>
    `\n--- app stdout\n${o.app.stdout().slice(-2000)}\n--- app stderr\n${o.app.stderr().slice(-2000)}`

  assert.ok(o.appAliveAtEnd, `the app process died during the run${appOutput()}`)
  assert.ok(samples.length > 50, `enough load: ${samples.length} requests`)
  const early = failed.filter((s) => s.end < faultAt)
  assert.is(early.length, 0, `no failure before the fault: ${example(early)}`)
  const clientSide = failed.filter((s) => s.status === 0)
  assert.is(
    clientSide.length,
    0,
    `requests that got no answer within ${CLIENT_TIMEOUT_MS} ms (a hang): ${example(clientSide)}`
  )
  assert.ok(
    longest < REQUEST_BOUND_MS,
    `longest request ${Math.round(
      longest
    )} ms >= ${REQUEST_BOUND_MS} ms (default deadline ${DEFAULT_DEADLINE_MS} + ${SLACK_MS})`
  )
  const typeErrors = failed.filter((s) => /TypeError/.test(s.text) || s.status === 500)
  assert.is(typeErrors.length, 0, `500s or TypeErrors (a missing req.session?): ${example(typeErrors)}${appOutput()}`)
  const unnamed = failed.filter((s) => s.status !== 503 || s.code === undefined || !plan.codes.test(s.code))
  assert.is(
    unnamed.length,
    0,
    `failures that are not a 503 naming ${String(
      plan.codes
    )} (no code: not a store error, e.g. a TypeError on a missing req.session): ${example(unnamed)}`
  )
  assert.is(
    usersInside,
    USERS,
    `every user ran a request wholly inside the outage (${Math.round(o.healBeganAt - o.inEffectAt)} ms)`
  )
  assert.is(insideOk.length, 0, `requests inside the outage that Redis cannot have served: ${example(insideOk)}`)
  assert.ok(failed.length > 0, 'the fault was felt by the app (the oracle can fail)')
  assert.ok(recoveryMs >= 0, 'a request succeeded after Redis was back')
  assert.ok(
    recoveryMs < plan.recoveryBoundMs,
    `recovered ${Math.round(recoveryMs)} ms after Redis was back (< ${plan.recoveryBoundMs})`
  )
  assert.is(failedAfterRecovery.length, 0, `requests failed after the recovery: ${example(failedAfterRecovery)}`)
  assert.is(wentBack, 0, 'a user’s view count went back (a session lost)')
  assert.is(keptCounting, USERS, 'every user’s view count kept counting after the recovery')
  assert.is(o.storedViews.length, USERS, `one session per user in Redis at the end: ${JSON.stringify(o.storedViews)}`)
}

const test = suite<State>('fault: the README quick start (store defaults) under a Redis outage')

if (faultsEnabled) {
  test.before(async (state) => {
    try {
      const packed = await installPacked()
      const block = namedBlock(readReadme(), 'quick-start')
      const kind = kindOf(block)
      if (kind === undefined || !block.app)
        throw new Error(`README.md:${block.line}: the quick-start block must be a js/ts block with the word app`)
      state.consumer = packed.consumer
      const dir = join(packed.consumer, 'faults')
      mkdirSync(dir, { recursive: true })
      state.preload = join(dir, 'loopback.cjs')
      writeFileSync(state.preload, LOOPBACK_PRELOAD)
      const source = join(
        dir,
        kind === 'ts' ? (block.esm ? 'quick-start.mts' : 'quick-start.ts') : `quick-start.${kind}`
      )
      writeFileSync(source, block.source)
      if (kind === 'ts') {
        const c = makeCompiler(packed.consumer).compile(source)
        if (c.output === undefined)
          throw new Error(`README.md:${block.line}: the quick start does not compile\n${c.diagnostics}`)
        state.file = c.output
      } else {
        state.file = source
      }
    } catch (err) {
      state.setupError = err
    }
  })

  test.before.each((state) => {
    rethrowSetupError(state.setupError)
  })

  // Each outage lasts 6 s: more than two deadlines and their slack, so that every user runs a whole request
  // inside it (a user may first spend one deadline on a request that was in flight when the fault began, and a
  // save in flight ends as a late 200).
  test('kill -9 Redis for 6 s, restart on the same port: 503s naming a store error in bounded time, then recovery', async (state) => {
    const plan: Plan = {
      name: 'kill -9 for 6 s + restart',
      healKey: 'restartAtMs',
      faultAtMs: 1_500,
      faultForMs: 6_000,
      afterHealMs: 6_000,
      inject: async (server) => {
        server.signal('SIGKILL')
        await server.exited
      },
      heal: (_server, restart) => restart(),
      codes: STORE_CODES,
      // node-redis's default strategy waits up to 2 s + 200 ms jitter between attempts; a request may then
      // still be waiting on the deadline.
      recoveryBoundMs: 2_200 + DEFAULT_DEADLINE_MS + 500
    }
    check(plan, await runScenario(state, plan))
  })

  test('SIGSTOP Redis for 6 s, then SIGCONT: ETIMEDOUT 503s in bounded time, recovery right after SIGCONT', async (state) => {
    const plan: Plan = {
      name: 'SIGSTOP for 6 s',
      healKey: 'sigcontAtMs',
      faultAtMs: 1_500,
      faultForMs: 6_000,
      afterHealMs: 4_000,
      inject: (server) => stopProcess(server),
      heal: async (server) => {
        server.signal('SIGCONT')
        return server
      },
      codes: /^ETIMEDOUT$/,
      recoveryBoundMs: 1_000
    }
    check(plan, await runScenario(state, plan))
  })

  test.run()
}
