/**
 * Fault 6: an ACL user limited to the store's prefix (`~sessions:*`) and to the commands the store needs.
 *
 * 1. Discovery: with MONITOR on, a user allowed every command on `~sessions:*` runs the whole store flow
 *    (set/get/lazy get/touch/expired touch/destroy/set-after-destroy/all/ids/length/iterate/clear). Every
 *    command it sent — and every command its scripts ran inside Redis — is then checked with `ACL DRYRUN`
 *    against the minimal user below: all must be allowed.
 * 2. The minimal user runs the flow: results are right, the foreign key `other:secret` (written by the admin,
 *    returned to this user by a plain SCAN) is never returned, read or deleted, and the startup eviction
 *    check (INFO) emits no warning.
 * 3. Minimality: the same user without any one of those commands fails the flow with NOPERM, or for a
 *    command called inside the script "The user executing the script can't run this command" (code
 *    ESESSION_REDIS either way) — except INFO, whose absence only makes the store emit a `warning` (never a throw), and
 *    PTTL, which only lazy touch reads and whose refusal it tolerates.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from 'redis'
import type { SessionData } from 'express-session'
import { createRedisStore } from '../../src'
import { faultsEnabled, report, sleep, spawnRedis, withAdmin, type Admin, type OwnedRedis } from './support'

/** What the store sends (after node-redis's own HELLO / CLIENT SETINFO, covered by +@connection). */
const CLIENT_COMMANDS = ['get', 'set', 'getex', 'getdel', 'pttl', 'mget', 'scan', 'evalsha', 'eval', 'info'] as const
/** What its destroy/clear script calls inside Redis (ACLs apply to them too). */
const SCRIPT_COMMANDS = ['type', 'del', 'hset', 'pexpire'] as const
const NEEDED = [...CLIENT_COMMANDS, ...SCRIPT_COMMANDS]
const FOREIGN = 'other:secret'

const aclRules = (without?: string): Array<string> => [
  'reset',
  'on',
  '>pw',
  '~sessions:*',
  'resetchannels',
  '+@connection',
  ...NEEDED.filter((c) => c !== without).map((c) => `+${c}`)
]

const session = (inMs: number, user: string): SessionData =>
  ({
    cookie: { originalMaxAge: inMs, expires: new Date(Date.now() + inMs).toISOString() },
    user
  } as unknown as SessionData)

const userOf = (s: SessionData | null): unknown => (s as { user?: unknown } | null)?.user ?? null

type Store = ReturnType<typeof createRedisStore>

/** The integration flow; throws (an assertion, or the store's rejection) at the first thing that is wrong. */
const flow = async (store: Store, lazy: Store): Promise<void> => {
  assert.is(await store.access.set('acl-a', session(60_000, 'a')), 'written')
  assert.is(await store.access.set('acl-b', session(60_000, 'b')), 'written')
  assert.is(await store.access.set('acl-c', session(60_000, 'c')), 'written')
  assert.is(userOf(await store.access.get('acl-a')), 'a', 'get')
  assert.is(userOf(await lazy.get('acl-a')), 'a', 'lazy get (one script: GET and PTTL)')
  assert.is(await store.access.touch('acl-a', session(120_000, 'a')), true, 'touch renews (GETEX)')
  assert.is(
    await store.access.touch('acl-c', session(-1_000, 'c')),
    true,
    'touch with an expiry in the past deletes (GETDEL)'
  )
  assert.is(await store.access.get('acl-c'), null)
  assert.is(await store.access.destroy('acl-b'), true, 'destroy (script: TYPE, DEL, HSET, PEXPIRE)')
  assert.is(await store.access.set('acl-b', session(60_000, 'b')), 'tombstoned', 'the tombstone refuses a late save')
  assert.is(await store.access.get('acl-b'), null)
  assert.equal(Object.keys(await store.access.all()), ['acl-a'], 'all: only the live session, never the foreign key')
  assert.equal([...(await store.access.ids())], ['acl-a'], 'ids')
  assert.is(await store.access.length(), 1, 'length')
  const iterated: Array<string> = []
  for await (const [sid] of store.access.iterate()) iterated.push(sid)
  assert.equal(iterated, ['acl-a'], 'iterate')
  assert.is(await store.access.clear(), 1, 'clear')
  assert.is(await store.access.length(), 0)
  assert.is(await store.access.get('acl-a'), null)
}

interface Run {
  readonly error: { readonly code?: string; readonly message: string } | undefined
  readonly warnings: ReadonlyArray<string>
  readonly foreignIntact: boolean
  readonly scanShowsForeign: boolean
}

/** A fresh keyspace (plus the foreign key) and an empty script cache, then the flow as `user`. */
const runAs = async (server: OwnedRedis, admin: Admin, user: string): Promise<Run> => {
  await admin.flushAll()
  await admin.scriptFlush()
  await admin.set(FOREIGN, 'top secret')
  const client = createClient({
    url: `redis://${user}:pw@127.0.0.1:${server.port}`,
    socket: { reconnectStrategy: false }
  })
  client.on('error', () => undefined)
  await client.connect()
  try {
    const warnings: Array<string> = []
    const store = createRedisStore(client)
    store.on('warning', (m: string) => warnings.push(m))
    const lazy = createRedisStore(client, { touchAfterSeconds: 60, checkEvictionPolicy: false })
    const scanShowsForeign = await client.scan('0', { COUNT: 1000 }).then(
      (r) => r.keys.includes(FOREIGN),
      () => false
    )
    const error = await flow(store, lazy).then(
      () => undefined,
      // A walk that failed (all, clear, …) is ESESSION_WALK_FAILED; the command's own failure is its cause.
      (thrown: { code?: string; message?: string; cause?: { code?: string; message?: string } }) => {
        const e = thrown.code === 'ESESSION_WALK_FAILED' && thrown.cause !== undefined ? thrown.cause : thrown
        return { ...(e.code === undefined ? {} : { code: e.code }), message: String(e.message) }
      }
    )
    await client.ping()
    await sleep(20) // the eviction check's INFO has answered before this PING; let its handler run
    const foreignIntact = (await admin.get(FOREIGN)) === 'top secret'
    return { error, warnings, foreignIntact, scanShowsForeign }
  } finally {
    client.destroy()
  }
}

/** `"A" "b\"c"` → ['A', 'b"c'] (MONITOR's quoting). */
const monitorArgs = (line: string): Array<string> =>
  [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
    (m[1] ?? '').replace(/\\x([0-9a-f]{2})|\\(.)/gi, (_all, hex: string | undefined, ch: string | undefined) =>
      hex !== undefined
        ? String.fromCharCode(parseInt(hex, 16))
        : ch === 'n'
        ? '\n'
        : ch === 'r'
        ? '\r'
        : ch === 't'
        ? '\t'
        : ch ?? ''
    )
  )

const test = suite('fault: ACL user limited to the prefix')

if (faultsEnabled) {
  let server: OwnedRedis

  test.before(async () => {
    server = await spawnRedis()
  })
  test.after(async () => {
    await server?.stop()
  })

  test('discovery: every command the store sends, and every command its scripts run, is allowed to the minimal user', async () => {
    await withAdmin(server.url, async (admin) => {
      await admin.aclSetUser('discover', ['reset', 'on', '>pw', '~sessions:*', 'resetchannels', '+@all'])
      await admin.aclSetUser('sess', aclRules())
      const monitor = createClient({ url: server.url, socket: { reconnectStrategy: false } })
      monitor.on('error', () => undefined)
      await monitor.connect()
      const lines: Array<string> = []
      try {
        await admin.flushAll()
        await admin.scriptFlush()
        await admin.set(FOREIGN, 'top secret')
        await monitor.monitor((line: string) => lines.push(line))
        const client = createClient({
          url: `redis://discover:pw@127.0.0.1:${server.port}`,
          socket: { reconnectStrategy: false }
        })
        client.on('error', () => undefined)
        await client.connect()
        const store = createRedisStore(client)
        const lazy = createRedisStore(client, { touchAfterSeconds: 60, checkEvictionPolicy: false })
        await flow(store, lazy)
        await client.ping()
        client.destroy()
        await sleep(100)
      } finally {
        monitor.destroy()
      }
      // Keep the lines of the flow: its client's commands and the script's inner calls ([0 lua]).
      const calls = lines
        .filter((l) => !/"(MONITOR|PING)"/i.test(l.slice(0, 80)))
        .map((l) => ({ lua: /\[\d+ lua\]/.test(l), args: monitorArgs(l) }))
        .filter((c) => c.args.length > 0)
      const commandName = (args: ReadonlyArray<string>): string => {
        const cmd = (args[0] ?? '').toLowerCase()
        return cmd === 'client' ? `client|${(args[1] ?? '').toLowerCase()}` : cmd
      }
      const seen = new Map<string, { lua: boolean; args: Array<string> }>()
      for (const c of calls) if (!seen.has(commandName(c.args))) seen.set(commandName(c.args), c)
      const denied: Array<string> = []
      for (const [name, c] of seen) {
        if (name === 'hello' || name === 'auth') continue // connection set-up, with credentials
        const verdict = String(await admin.sendCommand(['ACL', 'DRYRUN', 'sess', ...c.args]))
        if (verdict !== 'OK') denied.push(`${name}: ${verdict}`)
      }
      const direct = [...seen].filter(([, c]) => !c.lua).map(([n]) => n)
      const inScripts = [...seen].filter(([, c]) => c.lua).map(([n]) => n)
      report('ACL discovery (MONITOR)', {
        sent: direct.join(','),
        inScripts: inScripts.join(','),
        deniedToMinimalUser: denied.length
      })
      assert.equal(denied, [], 'every command the flow used is allowed to the minimal user')
      for (const c of SCRIPT_COMMANDS) assert.ok(inScripts.includes(c), `the scripts ran ${c.toUpperCase()}`)
    })
  })

  test('the minimal user runs the flow: right results, the foreign key untouched, INFO allowed (no warning)', async () => {
    await withAdmin(server.url, async (admin) => {
      await admin.aclSetUser('sess', aclRules())
      const run = await runAs(server, admin, 'sess')
      report('ACL minimal user', {
        acl: JSON.stringify(aclRules().slice(3).join(' ')),
        flow: run.error === undefined ? 'ok' : run.error.message,
        scanShowsForeign: run.scanShowsForeign,
        foreignIntact: run.foreignIntact,
        warnings: run.warnings.length
      })
      assert.is(run.error, undefined, `the flow failed: ${run.error?.message}`)
      assert.ok(run.scanShowsForeign, 'a plain SCAN does return the foreign key to this user (ACLs do not filter SCAN)')
      assert.ok(run.foreignIntact, 'the foreign key is still there, unchanged')
      assert.equal(run.warnings, [], 'noeviction: no warning')
    })
  })

  test('minimality: without any one command the flow fails with NOPERM (INFO → a warning; PTTL → tolerated)', async () => {
    await withAdmin(server.url, async (admin) => {
      const outcomes: Array<string> = []
      for (const without of NEEDED) {
        await admin.aclSetUser('sess', aclRules(without))
        const run = await runAs(server, admin, 'sess')
        assert.ok(run.foreignIntact, `without ${without}: the foreign key is untouched`)
        if (without === 'info') {
          assert.is(run.error, undefined, 'without INFO the flow works')
          assert.is(run.warnings.length, 1, 'and the store emits one warning instead of throwing')
          assert.match(run.warnings[0] ?? '', /maxmemory-policy/)
          assert.match(run.warnings[0] ?? '', /NOPERM/)
          outcomes.push(`info:warning`)
        } else if (without === 'pttl') {
          assert.is(run.error, undefined, 'lazy touch tolerates a refused PTTL (it then always renews)')
          outcomes.push('pttl:tolerated')
        } else {
          assert.ok(run.error !== undefined, `without ${without} the flow should fail`)
          assert.is(run.error?.code, 'ESESSION_REDIS', `without ${without}: ${run.error?.message}`)
          assert.ok(
            /NOPERM|user executing the script can't run this command/i.test(run.error?.message ?? ''),
            `without ${without}: ${run.error?.message}`
          )
          outcomes.push(`${without}:${/NOPERM/.test(run.error?.message ?? '') ? 'NOPERM' : 'script-denied'}`)
        }
      }
      report('ACL minimality (each command removed in turn)', { outcomes: outcomes.join(',') })
    })
  })

  test.run()
}
