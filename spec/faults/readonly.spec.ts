/**
 * Fault 5: the store's primary is demoted to a replica behind the same address (`REPLICAOF` another
 * redis-server — a failover seen through a stable endpoint). node-redis stays connected and ready, and Redis
 * refuses every write with `READONLY`.
 *
 * Oracles: destroy reports the failure — `store.access.destroy` rejects and an Express logout answers 500,
 * both with code ESESSION_REDIS and a message containing READONLY; saves fail the same way; the store emits
 * no `disconnect` (the connection is fine); after `REPLICAOF NO ONE` destroy works again.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SessionData } from 'express-session'
import {
  faultsEnabled,
  PREFIX,
  report,
  request,
  serveStoreApp,
  sidOfCookie,
  sleep,
  spawnRedis,
  withAdmin,
  type OwnedRedis,
  type StoreApp
} from './support'

const session = (): SessionData =>
  ({
    cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString() }
  } as unknown as SessionData)

const rejection = (p: Promise<unknown>): Promise<{ code?: string; message?: string } | undefined> =>
  p.then(
    () => undefined,
    (e: { code?: string; message?: string }) => e
  )

const test = suite('fault: primary demoted to replica (READONLY)')

if (faultsEnabled) {
  let fx: StoreApp
  let other: OwnedRedis
  const events: Array<string> = []

  test.before(async () => {
    ;[fx, other] = await Promise.all([
      serveStoreApp({}, (store) => {
        store.on('disconnect', () => events.push('disconnect'))
        store.on('connect', () => events.push('connect'))
      }),
      spawnRedis()
    ])
  })

  test.after(async () => {
    await Promise.all([fx?.close(), other?.stop()])
  })

  test('after REPLICAOF: destroy rejects / logout answers 500 with ESESSION_REDIS READONLY; REPLICAOF NO ONE restores', async () => {
    const { server: primary, client, store, app } = fx
    const login = await request(app.port, 'POST', '/login')
    assert.is(login.status, 200)
    const cookie = login.cookie as string
    const sid = sidOfCookie(cookie)
    await store.access.set('ro-direct', session())

    await withAdmin(primary.url, async (admin) => {
      await admin.sendCommand(['REPLICAOF', '127.0.0.1', String(other.port)])
      try {
        const destroyed = await rejection(store.access.destroy('ro-direct'))
        assert.is(destroyed?.code, 'ESESSION_REDIS', 'store.access.destroy rejects with ESESSION_REDIS')
        assert.match(String(destroyed?.message), /READONLY/)

        const out = await request(app.port, 'POST', '/logout', cookie)
        assert.is(out.status, 500, `logout: ${out.status} ${JSON.stringify(out.body)}`)
        assert.is(out.body['code'], 'ESESSION_REDIS')
        assert.match(String(out.body['message']), /READONLY/)

        const set = await rejection(store.access.set('ro-new', session()))
        assert.is(set?.code, 'ESESSION_REDIS', 'set rejects too')
        assert.match(String(set?.message), /READONLY/)
        const newLogin = await request(app.port, 'POST', '/login')
        assert.is(newLogin.status, 500, 'a login that saves before answering gets the error')
        assert.match(String(newLogin.body['message']), /READONLY/)

        // Reads are still served by the demoted server (stale until its sync from the new primary lands).
        const staleGet = await store.access.get('ro-direct').then(
          (s) => (s === null ? 'null' : 'session'),
          (e: Error) => `error ${e.message}`
        )
        report('READONLY (primary demoted)', {
          destroyCode: destroyed?.code,
          destroyMessage: JSON.stringify(String(destroyed?.message).slice(0, 90)),
          logoutStatus: out.status,
          loginStatus: newLogin.status,
          staleGet,
          clientReady: client.isReady,
          storeEvents: events.join(',') || 'none'
        })
        assert.ok(client.isReady, 'the client stays connected and ready')
        assert.equal(events, [], 'no disconnect: the connection itself is fine')
      } finally {
        await admin.sendCommand(['REPLICAOF', 'NO', 'ONE'])
      }
      // Writable again. The demoted server may have synced the (empty) dataset of the other one meanwhile,
      // so start from a fresh session.
      await sleep(50)
      assert.is(await admin.sendCommand(['ROLE']).then((r) => (r as unknown as Array<unknown>)[0]), 'master')
      const again = await request(app.port, 'POST', '/login')
      assert.is(again.status, 200, 'login works again')
      const out = await request(app.port, 'POST', '/logout', again.cookie)
      assert.is(out.status, 200, 'logout works again')
      assert.is(await admin.type(PREFIX + sidOfCookie(again.cookie as string)), 'hash')
      assert.type(
        await store.access.destroy(sid),
        'boolean',
        'destroy of the old session resolves (true, or false when the sync emptied it)'
      )
    })
  })

  test.run()
}
