/**
 * Fault 2: redis-server hangs (`SIGSTOP` for 8 s, then `SIGCONT`) under HTTP load.
 *
 * node-redis never times out a command it has already written (its `commandOptions.timeout` only covers
 * unsent commands), so without a deadline every request waits for the whole stop (the control below shows
 * it). Oracles: every store operation ends within operationTimeoutMs + ε, and so does every request; the
 * requests during the hang fail (ETIMEDOUT, or 503 once the store reported `disconnect`); after SIGCONT
 * requests succeed again and none fails after the first success; nothing acknowledged is lost or undone.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { assertOutage, reportOutage, runOutage, type OutagePlan, type OutageResult } from './outage'
import { createClient } from 'redis'
import { createRedisStore } from '../../src'
import { closeAgent, faultsEnabled, now, reconnectQuickly, report, sleep, spawnRedis, stopProcess } from './support'

const DEADLINE_MS = 500
const EPSILON_MS = 250
const REQUEST_BOUND_MS = DEADLINE_MS + EPSILON_MS
const STOP_MS = 8_000

const base: Omit<OutagePlan, 'client'> = {
  users: 8,
  deadlineMs: DEADLINE_MS,
  whenDisconnected: 'wait',
  serverArgs: ['--appendonly', 'yes', '--appendfsync', 'always'],
  faultAtMs: 1_000,
  faultForMs: STOP_MS,
  afterHealMs: 2_500,
  inject: (server) => stopProcess(server),
  heal: async (server) => {
    server.signal('SIGCONT')
    return server
  }
}

const print = (name: string, r: OutageResult): void =>
  reportOutage(`SIGSTOP ${STOP_MS / 1000} s, ${name}`, 'sigcontAtMs', r)

const common = (r: OutageResult): void =>
  assertOutage(r, {
    requestBoundMs: REQUEST_BOUND_MS,
    opBoundMs: DEADLINE_MS + EPSILON_MS,
    fault: 'SIGSTOP',
    heal: 'SIGCONT'
  })

const test = suite('fault: SIGSTOP of redis-server for 8 s under HTTP load')

if (faultsEnabled) {
  test.after(() => closeAgent())

  test('reconnectStrategy only: the connection stays up, the deadline fails each request in time, replies resume on SIGCONT', async () => {
    const r = await runOutage({
      ...base,
      client: { socket: { reconnectStrategy: reconnectQuickly, connectTimeout: 1_000 } }
    })
    print('reconnectStrategy min(50·n, 500), no socketTimeout', r)
    common(r)
    assert.equal(r.storeEvents, [], 'the socket never closed: no connection events')
    assert.ok((r.summary.failedCodes['ETIMEDOUT'] ?? 0) > 0, 'requests during the hang failed with ETIMEDOUT')
    assert.ok(r.recoveryMs < 1_000, `recovered ${Math.round(r.recoveryMs)} ms after SIGCONT (< 1000)`)
  })

  // The research's recommended socketTimeout + pingInterval does not detect this hang under load: Node's
  // socket timeout is an *idle* timer that every write resets, and the load writes a command every ~0.5 s.
  // So the store's deadline is what bounds the requests; the socket is never recycled (measured: no events).
  test('socketTimeout 1500 + pingInterval 500 + reconnectStrategy: same bounds; under load the idle timer does not fire', async () => {
    const r = await runOutage({
      ...base,
      client: {
        socket: { reconnectStrategy: reconnectQuickly, connectTimeout: 1_000, socketTimeout: 1_500 },
        pingInterval: 500
      }
    })
    print('socketTimeout 1500, pingInterval 500, reconnectStrategy min(50·n, 500)', r)
    common(r)
    const events = r.storeEvents.map((e) => e.event).join(',')
    assert.ok(
      events === '' || events === 'disconnect,connect',
      `no events, or one disconnect then one connect: ${events}`
    )
    assert.ok(r.recoveryMs < 2_500, `recovered ${Math.round(r.recoveryMs)} ms after SIGCONT (< 2500)`)
  })

  // Valkey GLIDE times out a written command itself (requestTimeout, 250 ms by default): a hung server fails each
  // request on GLIDE's timeout, before the store's deadline, and replies resume on SIGCONT.
  test("Valkey GLIDE, default requestTimeout (250 ms): the hang fails each request on GLIDE's timeout; replies resume on SIGCONT", async () => {
    const r = await runOutage({ ...base, client: { glide: {} } })
    print("Valkey GLIDE, requestTimeout 250 ms (GLIDE's default)", r)
    common(r)
    assert.equal(r.storeEvents, [], 'GLIDE reports no connection events')
    assert.ok((r.summary.failedCodes['ESESSION_REDIS'] ?? 0) > 0, "requests during the hang failed on GLIDE's timeout")
    assert.ok(r.recoveryMs < 1_000, `recovered ${Math.round(r.recoveryMs)} ms after SIGCONT (< 1000)`)
  })

  test('control: with operationTimeoutMs: 0 (no deadline) a get waits for the whole stop (2 s here)', async () => {
    const server = await spawnRedis()
    const client = createClient({ url: server.url })
    client.on('error', () => undefined)
    await client.connect()
    try {
      const store = createRedisStore(client, { operationTimeoutMs: 0 })
      await stopProcess(server)
      const start = now()
      const pending = store.access.get('control').then(() => now() - start)
      await sleep(2_000)
      server.signal('SIGCONT')
      const ms = await pending
      report('SIGSTOP 2 s, control without operationTimeoutMs', { getMs: Math.round(ms) })
      assert.ok(ms >= 1_900, `the get waited ${Math.round(ms)} ms: no timeout once written`)
    } finally {
      client.destroy()
      await server.stop()
    }
  })

  // Why the reconnectStrategy matters: node-redis's default strategy gives up on a SocketTimeoutError, and the
  // client is then closed for good. The store must fail fast from then on (ESESSION_REDIS), never hang.
  test('control: socketTimeout with the default reconnectStrategy terminates the client; the store then fails fast', async () => {
    const server = await spawnRedis()
    const client = createClient({ url: server.url, socket: { socketTimeout: 1_000 } })
    let terminated = false
    client.on('error', () => undefined)
    client.on('terminated', () => (terminated = true))
    await client.connect()
    try {
      const store = createRedisStore(client, { operationTimeoutMs: 500 })
      const events: Array<string> = []
      store.on('disconnect', () => events.push('disconnect'))
      store.on('connect', () => events.push('connect'))
      await stopProcess(server)
      await sleep(1_500)
      server.signal('SIGCONT')
      await sleep(200)
      const start = now()
      const failure = await store.access.get('control').then(
        () => undefined,
        (e: { code?: string; message?: string }) => e
      )
      const ms = now() - start
      report('SIGSTOP 1.5 s, control socketTimeout 1000 + default reconnectStrategy', {
        terminated,
        isOpen: client.isOpen,
        getAfterSigcont: failure?.code ?? 'ok',
        getMs: Math.round(ms),
        message: JSON.stringify(String(failure?.message ?? '').slice(0, 60)),
        storeEvents: events.join(',') || 'none'
      })
      assert.ok(terminated && !client.isOpen, 'the client gave up for good')
      assert.is(failure?.code, 'ESESSION_REDIS', 'the store reports it')
      assert.ok(ms < 100, `and fails fast (${Math.round(ms)} ms)`)
    } finally {
      client.destroy()
      await server.stop()
    }
  })

  test.run()
}
