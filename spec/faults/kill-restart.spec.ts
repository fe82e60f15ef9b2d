/**
 * Fault 1: `kill -9` of redis-server under HTTP load, restart on the same port 2 s later.
 *
 * Oracles: every store operation and every request ends within operationTimeoutMs + ε (no hang); no failure before the kill; the app recovers without a restart (a
 * request succeeds soon after Redis is back, and none fails after that); with connection events the store
 * emits `disconnect` then `connect`; no acknowledged session is lost and no acknowledged logout is undone
 * (the server runs with `appendfsync always`, so acknowledged writes survive the kill).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { assertOutage, reportOutage, runOutage, type OutagePlan, type OutageResult } from './outage'
import { closeAgent, faultsEnabled, reconnectQuickly } from './support'

const DEADLINE_MS = 500
/** Timer and event-loop slack on a busy 2-core CI machine. */
const EPSILON_MS = 250
/**
 * A request may make two store operations in a row (/me: get, then touch), but when Redis is down or hung
 * the first one already fails at the deadline, so a request ends within one deadline + ε.
 */
const REQUEST_BOUND_MS = DEADLINE_MS + EPSILON_MS

const base: Omit<OutagePlan, 'whenDisconnected' | 'client'> = {
  users: 8,
  deadlineMs: DEADLINE_MS,
  serverArgs: ['--appendonly', 'yes', '--appendfsync', 'always'],
  faultAtMs: 1_000,
  faultForMs: 2_000,
  afterHealMs: 2_500,
  inject: async (server) => {
    server.signal('SIGKILL')
    await server.exited
  },
  heal: (_server, restart) => restart()
}

const quick = { socket: { reconnectStrategy: reconnectQuickly, connectTimeout: 1_000 } }

const print = (name: string, r: OutageResult): void => reportOutage(`kill -9 + restart, ${name}`, 'restartAtMs', r)

const common = (r: OutageResult): void => {
  assertOutage(r, {
    requestBoundMs: REQUEST_BOUND_MS,
    opBoundMs: DEADLINE_MS + EPSILON_MS,
    fault: 'the kill',
    heal: 'the restart'
  })
  assert.ok(r.kept > 0 && r.destroyed > 0, 'the audit checked sessions of both kinds')
}

/** Requests during the outage failed with `code` (`how` says in what way). */
const failedWith = (r: OutageResult, code: string, how: string): void =>
  assert.ok((r.summary.failedCodes[code] ?? 0) > 0, how)

/** Traffic recovered within `boundMs` of the restart. */
const recoveredWithin = (r: OutageResult, boundMs: number): void =>
  assert.ok(r.recoveryMs < boundMs, `recovered ${Math.round(r.recoveryMs)} ms after the restart (< ${boundMs})`)

const test = suite('fault: kill -9 and restart of redis-server under HTTP load')

if (faultsEnabled) {
  test.after(() => closeAgent())

  test("whenDisconnected: 'bypass': disconnect → express-session bypasses the store → connect; recovers fast", async () => {
    const r = await runOutage({ ...base, whenDisconnected: 'bypass', client: quick })
    print('whenDisconnected bypass, reconnectStrategy min(50·n, 500)', r)
    common(r)
    assert.equal(
      r.storeEvents.map((e) => e.event),
      ['disconnect', 'connect'],
      'the store emitted disconnect once, then connect once'
    )
    const [down, up] = r.storeEvents
    assert.ok((down?.atMs ?? -1) >= 0 && (down?.atMs ?? Infinity) < 500, 'disconnect right after the kill')
    assert.ok((up?.atMs ?? -1) >= r.healAtMs, 'connect after the restart')
    recoveredWithin(r, 1_500)
  })

  test("whenDisconnected: 'wait' (default): every request reaches the store, and the deadline bounds it (offline queue)", async () => {
    const r = await runOutage({ ...base, whenDisconnected: 'wait', client: quick })
    print('whenDisconnected wait, reconnectStrategy min(50·n, 500)', r)
    common(r)
    assert.equal(r.storeEvents, [], 'no connection events')
    failedWith(r, 'ETIMEDOUT', 'requests during the outage failed with ETIMEDOUT (the deadline, not a hang)')
    recoveredWithin(r, 1_500)
  })

  test("whenDisconnected: 'fail': while the client reconnects, requests fail at once with ESESSION_UNAVAILABLE", async () => {
    const r = await runOutage({ ...base, whenDisconnected: 'fail', client: quick })
    print('whenDisconnected fail, reconnectStrategy min(50·n, 500)', r)
    common(r)
    assert.equal(r.storeEvents, [], 'no connection events')
    failedWith(r, 'ESESSION_UNAVAILABLE', 'requests during the outage failed at once with ESESSION_UNAVAILABLE')
    recoveredWithin(r, 1_500)
  })

  // Valkey GLIDE: no connection events, so 'wait' is all there is; GLIDE fails each request it cannot complete
  // within its own requestTimeout (250 ms by default, under the store's 500 ms deadline here) and reconnects alone,
  // on its default backoff: the 1.5 s bound above is that of node-redis's quick reconnectStrategy (min(50·n, 500));
  // a client on its default backoff gets the default-backoff control's bound (3 s). Measured: 855–890 ms and
  // 1350–1506 ms (requestTimeout 2000).
  const GLIDE_RECOVERY_MS = 3_000
  test("Valkey GLIDE, default requestTimeout (250 ms): requests fail with GLIDE's timeout (ESESSION_REDIS) before the deadline; recovers", async () => {
    const r = await runOutage({ ...base, whenDisconnected: 'wait', client: { glide: {} } })
    print("Valkey GLIDE, requestTimeout 250 ms (GLIDE's default)", r)
    common(r)
    assert.equal(r.storeEvents, [], 'GLIDE reports no connection events')
    failedWith(r, 'ESESSION_REDIS', "requests during the outage failed on GLIDE's timeout")
    assert.is(r.summary.failedCodes['ETIMEDOUT'], undefined, "GLIDE's 250 ms timeout came before the store's deadline")
    recoveredWithin(r, GLIDE_RECOVERY_MS)
  })

  test("Valkey GLIDE, requestTimeout 2000 ms: the store's deadline (500 ms) fails the requests first (ETIMEDOUT); recovers", async () => {
    const r = await runOutage({ ...base, whenDisconnected: 'wait', client: { glide: { requestTimeout: 2_000 } } })
    print('Valkey GLIDE, requestTimeout 2000 ms', r)
    common(r)
    failedWith(r, 'ETIMEDOUT', "requests during the outage failed at the store's deadline")
    recoveredWithin(r, GLIDE_RECOVERY_MS)
  })

  test('control: node-redis default reconnectStrategy (backoff up to 2 s + jitter) recovers, later', async () => {
    const r = await runOutage({ ...base, whenDisconnected: 'wait', client: {} })
    print('whenDisconnected wait, node-redis default reconnectStrategy', r)
    common(r)
    recoveredWithin(r, 3_000)
  })
  test.run()
}
