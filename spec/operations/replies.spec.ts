/**
 * A reply of the wrong shape, command by command: each is a `CommandFailed` naming the command and key, its cause a
 * `TypeError` that says what came back — never a throw, never a rejected task. (spec/property/replies.spec.ts drives
 * every operation through random replies; these are the cases one by one.)
 */
import * as E from 'fp-ts/lib/Either'
import type { SessionData } from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SessionClient } from '../../src/client/contract'
import { makeStoreOperations } from '../../src/assemble'
import { createMemoryClient } from '../../src/client/memory'
import type { StoreError } from '../../src/errors'
import { resolveOptions, type StoreOptions } from '../../src/options'

const session = (now: number): SessionData =>
  ({ cookie: { originalMaxAge: 60_000, expires: new Date(now + 60_000) }, owner: 'alice' } as unknown as SessionData)
const ownerOf = (s: SessionData) => (s as unknown as { owner?: string }).owner

/** A store over the memory client (seeded with two sessions of alice) whose `command` answers `reply`. */
const opsWith = async (command: keyof SessionClient, reply: unknown, options: StoreOptions = {}) => {
  const memory = createMemoryClient()
  const resolved = resolveOptions({ ownerOf, ...options })
  assert.ok(E.isRight(resolved))
  const seeding = makeStoreOperations({ ...resolved.right, client: memory })
  for (const sid of ['abc', 'def']) await seeding.set(sid, session(memory.clock.now()))()
  const client = { ...memory, [command]: () => Promise.resolve(reply) } as SessionClient
  return makeStoreOperations({ ...resolved.right, client })
}

/**
 * The failure of `r`: a CommandFailed of `command`, its cause a TypeError mentioning `shown` (for a walk, the cause
 * of its WalkFailed).
 */
const wrongShape = (r: E.Either<StoreError, unknown>, command: string, shown: string): void => {
  assert.ok(E.isLeft(r), `expected a failure, got ${JSON.stringify(r)}`)
  const e = r.left._tag === 'WalkFailed' ? r.left.cause : r.left
  assert.is(e._tag, 'CommandFailed')
  if (e._tag !== 'CommandFailed') return
  assert.is(e.command, command)
  assert.instance(e.cause, TypeError)
  assert.match((e.cause as TypeError).message, `unexpected reply to ${command}: ${shown}`)
}

const it = suite('replies of the wrong shape')

it('GET answering a number', async () => {
  const ops = await opsWith('get', 42)
  const r = await ops.get('abc')()
  wrongShape(r, 'GET', 'number 42')
  assert.ok(E.isLeft(r) && r.left._tag === 'CommandFailed' && r.left.key === 'sessions:abc')
})

it('SET … GET answering an object, GETEX an array, GETDEL a Buffer', async () => {
  const now = Date.now()
  wrongShape(await (await opsWith('set', {})).set('abc', session(now))(), 'SET', 'an object')
  wrongShape(await (await opsWith('getEx', ['x'])).touch('abc', session(now))(), 'GETEX', 'an array of 1')
  const expired = { ...session(now), cookie: { originalMaxAge: 1, expires: new Date(now - 1000) } } as SessionData
  wrongShape(await (await opsWith('getDel', Buffer.from('x'))).touch('abc', expired)(), 'GETDEL', 'a Buffer of 1 bytes')
})

it('the lazy-touch read answering something that is no [pttl, value]', async () => {
  for (const reply of ['OK', undefined, 7, {}, ['x', 'y'], [1, 2, 3]]) {
    const ops = await opsWith('evalSha', reply, { touchAfterSeconds: 60 })
    wrongShape(await ops.sessionGet('abc')(), 'EVALSHA', '')
  }
})

it('SCAN answering no cursor, or keys that are not strings', async () => {
  for (const reply of [undefined, { cursor: 0, keys: [] }, { cursor: '0', keys: [1] }, { cursor: '0' }]) {
    const ops = await opsWith('scan', reply)
    for (const r of [await ops.all()(), await ops.ids()(), await ops.length()(), await ops.clear()()])
      wrongShape(r, 'SCAN', '')
    for await (const page of ops.iterate()) wrongShape(page, 'SCAN', '')
  }
})

it('MGET answering fewer values than keys, or values that are not strings', async () => {
  for (const reply of [[], ['{}'], [1, null], 'OK']) {
    const ops = await opsWith('mGet', reply)
    wrongShape(await ops.all()(), 'MGET', '')
    wrongShape(await ops.sessionsOf('alice')(), 'MGET', '')
  }
})

it("the owner index's list answering no [id, expiresAt, …]", async () => {
  for (const reply of ['OK', ['abc'], [1, 2], ['abc', {}]]) {
    const ops = await opsWith('evalSha', reply)
    wrongShape(await ops.sessionsOf('alice')(), 'EVALSHA', '')
  }
})

it('WAIT answering no count of replicas', async () => {
  const memory = createMemoryClient()
  const resolved = resolveOptions({ waitReplicas: 1 })
  assert.ok(E.isRight(resolved))
  const client = { ...memory, waitReplicas: () => Promise.resolve('1') } as unknown as SessionClient
  const ops = makeStoreOperations({ ...resolved.right, client })
  await ops.set('abc', session(memory.clock.now()))()
  wrongShape(await ops.destroy('abc')(), 'WAIT', 'string 1')
})

it.run()
