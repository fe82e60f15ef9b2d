/**
 * Fault 3: `SCRIPT FLUSH` between operations (what a restart, a failover or an operator does to the script
 * cache). The store sends its destroy script by SHA1 and falls back to `EVAL` on `NOSCRIPT`.
 *
 * Oracle: no error ever reaches the app — logout over HTTP answers 200 and leaves its tombstone after every
 * flush, also with many logouts in flight while the cache is flushed again and again — and Redis's own
 * counters show that the fallback really ran (EVALSHA answered NOSCRIPT, EVAL was sent).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SessionData } from 'express-session'
import { createRedisStore } from '../../src'
import {
  faultsEnabled,
  login,
  PREFIX,
  report,
  request,
  serveStoreApp,
  sleep,
  timeOperations,
  withAdmin,
  type Admin,
  type OpTimes,
  type StoreApp
} from './support'

const ROUNDS = 10
const CONCURRENT = 200

/** `calls` and NOSCRIPT-style failures of EVAL / EVALSHA from `INFO commandstats`. */
const scriptStats = async (admin: Admin): Promise<{ evalsha: number; evalshaFailed: number; eval: number }> => {
  const text = await admin.info('commandstats')
  const stat = (cmd: string, field: string): number =>
    Number(new RegExp(`cmdstat_${cmd}:[^\\r\\n]*\\b${field}=(\\d+)`).exec(text)?.[1] ?? 0)
  return {
    evalsha: stat('evalsha', 'calls'),
    evalshaFailed: stat('evalsha', 'failed_calls') + stat('evalsha', 'rejected_calls'),
    eval: stat('eval', 'calls')
  }
}

const test = suite('fault: SCRIPT FLUSH between operations')

if (faultsEnabled) {
  let fx: StoreApp
  let ops: OpTimes
  let storeErrors = 0

  test.before(async () => {
    fx = await serveStoreApp({}, (store) => {
      store.on('error', () => storeErrors++)
      ops = timeOperations(store)
    })
  })

  test.after(async () => {
    await fx?.close()
  })

  test(`${ROUNDS} rounds over HTTP: login, SCRIPT FLUSH, logout → 200, a tombstone, the cookie logged out`, async () => {
    const { server, app } = fx
    await withAdmin(server.url, async (admin) => {
      const before = await scriptStats(admin)
      for (let i = 0; i < ROUNDS; i++) {
        const { cookie, sid } = await login(app.port)
        await admin.scriptFlush()
        const out = await request(app.port, 'POST', '/logout', cookie)
        assert.is(out.status, 200, `logout after SCRIPT FLUSH: ${JSON.stringify(out.body)}`)
        assert.is(await admin.type(PREFIX + sid), 'hash', 'a tombstone')
        assert.ok((await admin.pTTL(PREFIX + sid)) > 0, 'the tombstone expires')
        const me = await request(app.port, 'GET', '/me', cookie)
        assert.is(me.body['user'], null, 'the old cookie is logged out')
      }
      const after = await scriptStats(admin)
      const noscript = after.evalshaFailed - before.evalshaFailed
      const evals = after.eval - before.eval
      report('SCRIPT FLUSH, sequential rounds', {
        rounds: ROUNDS,
        logoutsFailed: 0,
        evalshaNoscript: noscript,
        evalFallbacks: evals,
        opErrors: ops.errors
      })
      assert.is(noscript, ROUNDS, 'each first EVALSHA after a flush was answered NOSCRIPT')
      assert.is(evals, ROUNDS, 'and each was resent once with EVAL')
    })
  })

  test(`${CONCURRENT} logouts in flight over HTTP while SCRIPT FLUSH runs every 2 ms: no error reaches the app`, async () => {
    const { server, app } = fx
    const sessions = await Promise.all(Array.from({ length: CONCURRENT }, () => login(app.port)))
    await withAdmin(server.url, async (admin) => {
      const before = await scriptStats(admin)
      let flushing = true
      let flushes = 0
      const flusher = (async () => {
        while (flushing) {
          await admin.scriptFlush()
          flushes++
          await sleep(2)
        }
      })()
      const errorsBefore = ops.errors
      const outs = await Promise.all(sessions.map((s) => request(app.port, 'POST', '/logout', s.cookie)))
      flushing = false
      await flusher
      const failed = outs.filter((o) => o.status !== 200)
      const types = await Promise.all(sessions.map((s) => admin.type(PREFIX + s.sid)))
      const after = await scriptStats(admin)
      report('SCRIPT FLUSH, concurrent logouts', {
        logouts: CONCURRENT,
        failed: failed.length,
        flushes,
        evalshaNoscript: after.evalshaFailed - before.evalshaFailed,
        evalFallbacks: after.eval - before.eval,
        tombstones: types.filter((t) => t === 'hash').length,
        longestLogoutMs: Math.round(Math.max(...outs.map((o) => o.ms))),
        lateErrors: app.lateErrors.length
      })
      assert.is(failed.length, 0, `failed logouts: ${JSON.stringify(failed.slice(0, 3).map((f) => f.body))}`)
      assert.is(ops.errors - errorsBefore, 0, 'no store operation failed')
      assert.ok(flushes > 0 && after.eval - before.eval > 0, 'the fallback ran during the run')
      assert.ok(
        types.every((t) => t === 'hash'),
        'every session is a tombstone'
      )
    })
  })

  test('store.access after SCRIPT FLUSH: destroy → true and a tombstone; clear tombstones every session', async () => {
    const { server, client, app } = fx
    await withAdmin(server.url, async (admin) => {
      const sess = {
        cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString() }
      } as unknown as SessionData
      const store = createRedisStore(client)
      await store.access.set('flush-a', sess)
      await store.access.set('flush-b', sess)
      await admin.scriptFlush()
      assert.is(await store.access.destroy('flush-a'), true)
      assert.is(await admin.type(PREFIX + 'flush-a'), 'hash')
      await admin.scriptFlush()
      assert.ok((await store.access.clear()) >= 1, 'clear removed the live session')
      assert.is(await admin.type(PREFIX + 'flush-b'), 'hash')
      assert.is(storeErrors, 0, 'the store never emitted error')
      assert.is(app.lateErrors.length, 0, 'express-session never passed a late error')
    })
  })

  test.run()
}
