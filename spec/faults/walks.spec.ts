/**
 * Fault: redis-server hangs (`SIGSTOP`) while the batched operations walk the sessions.
 *
 * Each page of a walk (each `SCAN`, each batch read or tombstone script) has the deadline operationTimeoutMs, so
 * `all`, `ids`, `length`, `clear` and `iterate` fail once it has passed, however many pages were left, with an error
 * that says how far the walk got. Oracles: each fails after at least most of the deadline (the fault was felt) and
 * within the deadline plus a slack generous enough for a loaded 2-core machine; the error is a `SessionStoreError`
 * (`ESESSION_WALK_FAILED` whose cause is `ETIMEDOUT`; `iterate` throws the `ETIMEDOUT` itself); after `SIGCONT` a
 * retried `clear` finishes the job.
 */
import { suite } from 'uvu'
import { failureWithin } from '../support/failure'
import * as assert from 'uvu/assert'
import { createClient } from 'redis'
import { createRedisStore, type SessionStoreError } from '../../src'
import { storedSession } from '../helpers'
import { faultsEnabled, report, sleep, spawnRedis } from './support'

const DEADLINE_MS = 1_000
/** What a loaded machine may add to a deadline: timers late, the event loop busy with other specs. */
const SLACK_MS = 2_500
const SESSIONS = 3_000

const test = suite('fault: SIGSTOP of redis-server during the batched operations')

/** How long `p` took to fail, and with what (see `failureWithin`). */
const failure = (p: Promise<unknown>) => failureWithin(p, DEADLINE_MS + SLACK_MS + 1_000, 'Redis was stopped')

const drain = async (entries: AsyncIterable<unknown>): Promise<number> => {
  let n = 0
  for await (const _ of entries) n++
  return n
}

if (faultsEnabled) {
  test('all, ids, length, clear and iterate each fail within operationTimeoutMs + slack; a retried clear is safe', async () => {
    const server = await spawnRedis()
    const client = createClient({ url: server.url })
    client.on('error', () => undefined)
    await client.connect()
    try {
      // A small scanCount: many pages, so a walk without a deadline per page would take many deadlines, or hang.
      const store = createRedisStore(client, { operationTimeoutMs: DEADLINE_MS, scanCount: 100 })
      const value = JSON.stringify(storedSession(Date.now(), 600_000))
      for (let i = 0; i < SESSIONS; i += 500)
        await client.mSet(Array.from({ length: 500 }, (_, j) => [`sessions:s${i + j}`, value] as [string, string]))
      assert.is(await store.access.length(), SESSIONS)
      server.signal('SIGSTOP')
      const results = await Promise.all([
        failure(store.access.all()),
        failure(store.access.ids()),
        failure(store.access.length()),
        failure(store.access.clear()),
        failure(drain(store.access.iterate()))
      ])
      server.signal('SIGCONT')
      const names = ['all', 'ids', 'length', 'clear', 'iterate']
      report(
        'SIGSTOP, batched operations with operationTimeoutMs 1000',
        Object.fromEntries(results.map((r, i) => [`${names[i]}Ms`, Math.round(r.ms)]))
      )
      results.forEach(({ ms, err }, i) => {
        const name = names[i] as string
        assert.ok(err instanceof Error && err.name === 'SessionStoreError', `${name}: a SessionStoreError`)
        assert.ok(ms >= DEADLINE_MS * 0.9, `${name} waited for the deadline (${Math.round(ms)} ms)`)
        assert.ok(ms < DEADLINE_MS + SLACK_MS, `${name} failed within the deadline + slack (${Math.round(ms)} ms)`)
        if (name === 'iterate') assert.is(err.code, 'ETIMEDOUT', name)
        else {
          assert.is(err.code, 'ESESSION_WALK_FAILED', name)
          assert.ok(err.storeError._tag === 'WalkFailed' && err.storeError.operation === name, name)
          assert.is((err.cause as SessionStoreError).code, 'ETIMEDOUT', name)
        }
      })
      // Redis is back: clearing again finishes what the failed clear left (it may have tombstoned nothing yet).
      await sleep(100)
      const removed = await store.access.clear()
      assert.ok(removed <= SESSIONS - countDone(results[3]?.err), `removed ${removed}, none twice`)
      assert.is(await store.access.length(), 0, 'every session is gone')
    } finally {
      client.destroy()
      await server.stop()
    }
  })

  test.run()
}

/** The sessions a failed clear reported tombstoned: scripts that timed out may have run as well, once resumed. */
function countDone(err: SessionStoreError | undefined): number {
  return err?.storeError._tag === 'WalkFailed' ? err.storeError.done : 0
}
