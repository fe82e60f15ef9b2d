/**
 * Fault 4: Redis out of memory under `maxmemory-policy noeviction` (`CONFIG SET maxmemory 1` after warming up,
 * so every write that needs memory is refused with `OOM`).
 *
 * Oracles: logout through Express (`req.session.destroy`) still answers 200 and leaves its tombstone (TYPE
 * hash, with a TTL); a login that saves before answering gets the error: 500 with code ESESSION_REDIS and
 * an OOM message; reads keep working; nothing was resurrected; once memory is back, logins work again.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SessionData } from 'express-session'
import {
  faultsEnabled,
  login,
  PREFIX,
  report,
  request,
  serveStoreApp,
  withAdmin,
  type Reply,
  type StoreApp
} from './support'

const WARM = 20

const test = suite('fault: maxmemory reached under noeviction')

if (faultsEnabled) {
  let fx: StoreApp

  test.before(async () => {
    fx = await serveStoreApp({ args: ['--maxmemory-policy', 'noeviction'] })
  })

  test.after(async () => {
    await fx?.close()
  })

  const assertOom = (r: Reply, what: string): void => {
    assert.is(r.status, 500, `${what}: ${r.status} ${JSON.stringify(r.body)}`)
    assert.is(r.body['code'], 'ESESSION_REDIS', what)
    assert.match(String(r.body['message']), /OOM/, what)
  }

  test('full Redis: logouts answer 200 and leave tombstones, saves fail loudly (500 ESESSION_REDIS OOM), reads work', async () => {
    const { server, store, app } = fx
    const sessions: Array<{ readonly cookie: string; readonly sid: string }> = []
    for (let i = 0; i < WARM; i++) sessions.push(await login(app.port))
    await withAdmin(server.url, async (admin) => {
      await admin.configSet('maxmemory', '1')
      try {
        // Saves are refused, and the app hears about it before answering.
        const failedLogin = await request(app.port, 'POST', '/login')
        assertOom(failedLogin, 'login (save before answering)')
        const [reader, writer, ...leaving] = sessions
        const write = await request(app.port, 'POST', '/write', writer?.cookie)
        assertOom(write, 'write (save before answering)')
        const sess = {
          cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString() }
        } as unknown as SessionData
        const direct = await store.access.set('oom-direct', sess).then(
          () => undefined,
          (e: { code?: string; message?: string }) => e
        )
        assert.is(direct?.code, 'ESESSION_REDIS', 'store.access.set rejects with ESESSION_REDIS')
        assert.match(String(direct?.message), /OOM/)

        // Reads keep working (the touch at the end of /me is a GETEX, not refused under OOM).
        const me = await request(app.port, 'GET', '/me', reader?.cookie)
        assert.is(me.status, 200)
        assert.is(me.body['user'], 'alice', 'a live session still reads')

        // Logout works and leaves its tombstone.
        const outs: Array<Reply> = []
        for (const s of leaving) outs.push(await request(app.port, 'POST', '/logout', s.cookie))
        const failed = outs.filter((o) => o.status !== 200)
        const types = await Promise.all(leaving.map((s) => admin.type(PREFIX + s.sid)))
        const ttls = await Promise.all(leaving.map((s) => admin.pTTL(PREFIX + s.sid)))
        // A second logout of the same (now tombstoned) session, and store.access.destroy of a session that
        // does not exist: both must work on a full Redis too.
        const again = await request(app.port, 'POST', '/logout', leaving[0]?.cookie)
        const missing = await store.access.destroy('oom-never-existed')
        const afterMe = await Promise.all(leaving.map((s) => request(app.port, 'GET', '/me', s.cookie)))
        const resurrected = afterMe.filter((r) => r.body['user'] !== null).length
        const used = /used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]
        report('OOM (noeviction, maxmemory 1)', {
          usedMemoryBytes: used,
          loginStatus: failedLogin.status,
          loginCode: failedLogin.body['code'],
          writeStatus: write.status,
          logouts: leaving.length,
          logoutsFailed: failed.length,
          tombstones: types.filter((t) => t === 'hash').length,
          secondLogoutStatus: again.status,
          destroyMissing: missing,
          resurrected,
          lateErrors: app.lateErrors.length
        })
        assert.is(failed.length, 0, `failed logouts: ${JSON.stringify(failed.slice(0, 3).map((f) => f.body))}`)
        assert.ok(
          types.every((t) => t === 'hash'),
          `every logged-out session is a tombstone: ${types.join(',')}`
        )
        assert.ok(
          ttls.every((t) => t > 0 && t <= 300_000),
          'every tombstone expires within the grace period'
        )
        assert.is(again.status, 200, 'a second logout of the same cookie')
        assert.is(missing, false, 'destroy of a missing session resolves false')
        assert.is(resurrected, 0, 'no logged-out cookie reads a user')
      } finally {
        await admin.configSet('maxmemory', '0')
      }
      const back = await request(app.port, 'POST', '/login')
      assert.is(back.status, 200, 'logins work again once memory is back')
    })
  })

  test.run()
}
