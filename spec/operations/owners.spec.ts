/**
 * The owner index (`ownerOf`) on the in-memory client: listing, pruning (expiry, destroy, owner change), the
 * index's own expiry, destroy-all with tombstones (and the logout race), `maxSessionsPerOwner`, the renewal by
 * `touch`, the cost (commands sent) with and without the option, and the checks of its options.
 */
import { randomBytes } from 'crypto'
import type { SessionData } from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, encryptedSerializer, type StoreOptions } from '../../src'
import { resolveOptions } from '../../src/operations'
import { OWNER_ADD_SCRIPT, OWNER_LIST_SCRIPT } from '../../src/scripts'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'

const MIN = 60_000
const ownerOf = (s: SessionData): string | undefined => (s as { userId?: string }).userId

const sessionOf = (redis: FakeRedis, ttlMs: number, userId?: string): SessionData =>
  ({
    cookie: { originalMaxAge: ttlMs, expires: new Date(redis.now() + ttlMs) },
    ...(userId === undefined ? {} : { userId })
  } as unknown as SessionData)

const storeOn = (redis: FakeRedis, options: StoreOptions = {}) =>
  createRedisStore(redis, { now: redis.now, checkEvictionPolicy: false, ownerOf, ...options })

const rejects = async (p: Promise<unknown>, pattern: RegExp): Promise<void> => {
  const outcome = await p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof Error ? e.message : String(e))
  )
  assert.match(outcome, pattern)
}

const members = (redis: FakeRedis, owner: string): Record<string, number> | undefined => {
  const e = redis.keyspace.get(`session-owners:${owner}`)
  if (e === undefined) return undefined
  assert.is(e.type, 'zset')
  return e.type === 'zset' ? Object.fromEntries(e.members) : undefined
}

const owners = suite<{ redis: FakeRedis }>('owner index')
owners.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

owners(
  'sessionsOf lists the sessions of one owner with their expiry, those expiring first first',
  async ({ redis }) => {
    const store = storeOn(redis)
    await store.access.set('laptop', sessionOf(redis, 10 * MIN, 'alice'))
    await store.access.set('phone', sessionOf(redis, 5 * MIN, 'alice'))
    await store.access.set('other', sessionOf(redis, 5 * MIN, 'bob'))
    await store.access.set('guest', sessionOf(redis, 5 * MIN))
    const listed = await store.access.sessionsOf('alice')
    assert.equal(
      listed.map((s) => [s.id, s.expiresAt, ownerOf(s.session)]),
      [
        ['phone', redis.now() + 5 * MIN, 'alice'],
        ['laptop', redis.now() + 10 * MIN, 'alice']
      ]
    )
    assert.equal(members(redis, 'alice'), { phone: redis.now() + 5 * MIN, laptop: redis.now() + 10 * MIN })
    assert.equal(
      (await store.access.sessionsOf('bob')).map((s) => s.id),
      ['other']
    )
    assert.equal(await store.access.sessionsOf('carol'), [])
    // An anonymous session is in no index: only the three owned ids are indexed, under two owners.
    assert.equal(
      redis.keyspace
        .keys()
        .filter((k) => k.startsWith('session-owners:'))
        .sort(),
      ['session-owners:alice', 'session-owners:bob']
    )
  }
)

owners('the index expires with its last session (plus a second), and expired ids are pruned', async ({ redis }) => {
  const store = storeOn(redis)
  await store.access.set('a', sessionOf(redis, 1 * MIN, 'alice'))
  await store.access.set('b', sessionOf(redis, 3 * MIN, 'alice'))
  assert.is(redis.keyspace.pttl('session-owners:alice'), 3 * MIN + 1000)
  redis.clock.advance(2 * MIN)
  assert.equal(
    (await store.access.sessionsOf('alice')).map((s) => s.id),
    ['b']
  )
  assert.equal(Object.keys(members(redis, 'alice') ?? {}), ['b'], 'the expired id was pruned')
  redis.clock.advance(1 * MIN + 1001)
  assert.is(redis.keyspace.get('session-owners:alice'), undefined, 'the index is gone with its last session')
  assert.equal(redis.keyspace.keys(), [], 'nothing is left behind')
})

owners('a destroyed session is not listed, and its id leaves the index on the next read', async ({ redis }) => {
  const store = storeOn(redis)
  await store.access.set('a', sessionOf(redis, MIN, 'alice'))
  await store.access.set('b', sessionOf(redis, MIN, 'alice'))
  assert.ok(await store.access.destroy('a'))
  assert.equal(Object.keys(members(redis, 'alice') ?? {}).sort(), ['a', 'b'], 'destroy itself sends nothing more')
  assert.equal(
    (await store.access.sessionsOf('alice')).map((s) => s.id),
    ['b']
  )
  assert.equal(Object.keys(members(redis, 'alice') ?? {}), ['b'])
})

owners('an owner change moves the session: login on an anonymous session, then another user', async ({ redis }) => {
  const store = storeOn(redis)
  await store.access.set('s', sessionOf(redis, MIN))
  assert.equal(await store.access.sessionsOf('alice'), [])
  await store.access.set('s', sessionOf(redis, MIN, 'alice'))
  assert.equal(
    (await store.access.sessionsOf('alice')).map((s) => s.id),
    ['s']
  )
  await store.access.set('s', sessionOf(redis, MIN, 'bob'))
  assert.is(members(redis, 'alice'), undefined, "the id left alice's index at once (its last one: the index is gone)")
  assert.equal(
    (await store.access.sessionsOf('bob')).map((s) => s.id),
    ['s']
  )
  // Logout that keeps the session (the user id removed from it): the session leaves bob's index too.
  await store.access.set('s', sessionOf(redis, MIN))
  assert.is(members(redis, 'bob'), undefined)
  assert.is(redis.keyspace.get('sessions:s')?.type, 'string', 'the session itself lives on')
})

owners('an id whose session now belongs to someone else is neither listed nor destroyed', async ({ redis }) => {
  const store = storeOn(redis)
  await store.access.set('s', sessionOf(redis, MIN, 'alice'))
  // A stale entry, as a race between two saves of one session could leave: s is bob's now.
  redis.keyspace.set('sessions:s', {
    type: 'string',
    value: JSON.stringify(sessionOf(redis, MIN, 'bob')),
    expiresAt: redis.now() + MIN
  })
  assert.equal(await store.access.sessionsOf('alice'), [])
  assert.is(members(redis, 'alice'), undefined, 'the stale id was dropped')
  await store.access.set('s', sessionOf(redis, MIN, 'bob'))
  await store.access.set('t', sessionOf(redis, MIN, 'alice'))
  redis.keyspace.set('session-owners:alice', {
    type: 'zset',
    members: new Map([
      ['s', redis.now() + MIN],
      ['t', redis.now() + MIN]
    ])
  })
  assert.is(await store.access.destroySessionsOf('alice'), 1)
  assert.is(redis.keyspace.get('sessions:s')?.type, 'string', "bob's session survives alice's logout everywhere")
  assert.is(redis.keyspace.get('sessions:t')?.type, 'hash')
})

owners(
  'destroySessionsOf tombstones every session of the owner but except; nothing saves one back',
  async ({ redis }) => {
    const store = storeOn(redis)
    for (const sid of ['a', 'b', 'c']) await store.access.set(sid, sessionOf(redis, MIN, 'alice'))
    await store.access.set('x', sessionOf(redis, MIN, 'bob'))
    assert.is(await store.access.destroySessionsOf('alice', { except: 'c' }), 2)
    assert.equal(Object.keys(members(redis, 'alice') ?? {}), ['c'], 'the destroyed ids left the index')
    for (const sid of ['a', 'b']) {
      const e = redis.keyspace.get(`sessions:${sid}`)
      assert.is(e?.type, 'hash', `${sid} is a tombstone`)
      assert.is(redis.keyspace.pttl(`sessions:${sid}`), 300_000)
      // A request of alice still in flight: its save and its touch are refused.
      assert.is(await store.access.set(sid, sessionOf(redis, MIN, 'alice')), 'tombstoned')
      assert.is(await store.access.touch(sid, sessionOf(redis, MIN, 'alice')), false)
      assert.is(await store.access.get(sid), null)
    }
    // The refused save and touch wrote their ids first (the index never lists fewer than the live sessions):
    // the next read drops them.
    assert.equal(Object.keys(members(redis, 'alice') ?? {}).sort(), ['a', 'b', 'c'])
    assert.equal(
      (await store.access.sessionsOf('alice')).map((s) => s.id),
      ['c']
    )
    assert.equal(Object.keys(members(redis, 'alice') ?? {}), ['c'])
    assert.equal(
      (await store.access.sessionsOf('bob')).map((s) => s.id),
      ['x']
    )
    assert.is(await store.access.destroySessionsOf('alice'), 1)
    assert.is(await store.access.destroySessionsOf('alice'), 0)
    assert.is(redis.keyspace.get('session-owners:alice'), undefined)
  }
)

owners(
  'the logout race: a save in flight when destroySessionsOf runs is refused by the tombstone',
  async ({ redis }) => {
    const store = storeOn(redis)
    await store.access.set('phone', sessionOf(redis, MIN, 'alice'))
    // A slow request of the phone loaded its session before the logout; its save reaches Redis only after it.
    const release = redis.faults.hang('SET')
    const slowSave = store.access.set('phone', { ...sessionOf(redis, MIN, 'alice'), cart: ['book'] } as SessionData)
    assert.is(await store.access.destroySessionsOf('alice'), 1)
    release()
    assert.is(await slowSave, 'tombstoned')
    assert.is(await store.access.get('phone'), null)
    assert.equal(await store.access.sessionsOf('alice'), [])
    assert.is(members(redis, 'alice'), undefined, 'a refused save indexes nothing')
  }
)

owners('touch renews the expiry in the index: a touched session outlives its first expiry there', async ({ redis }) => {
  const store = storeOn(redis)
  await store.access.set('a', sessionOf(redis, MIN, 'alice'))
  redis.clock.advance(MIN / 2)
  await store.access.touch('a', sessionOf(redis, MIN, 'alice'))
  assert.equal(members(redis, 'alice'), { a: redis.now() + MIN })
  redis.clock.advance(MIN / 2 + 1000)
  assert.equal(
    (await store.access.sessionsOf('alice')).map((s) => s.id),
    ['a']
  )
  // A touch that renews nothing (no session) wrote its id first; the next read drops it.
  assert.is(await store.access.touch('gone', sessionOf(redis, MIN, 'alice')), false)
  assert.equal(Object.keys(members(redis, 'alice') ?? {}).sort(), ['a', 'gone'])
  assert.equal(
    (await store.access.sessionsOf('alice')).map((s) => s.id),
    ['a']
  )
  assert.equal(Object.keys(members(redis, 'alice') ?? {}), ['a'])
})

owners(
  'maxSessionsPerOwner: a set over the cap destroys the sessions expiring first, never the one written',
  async ({ redis }) => {
    const store = storeOn(redis, { maxSessionsPerOwner: 2 })
    await store.access.set('old', sessionOf(redis, 5 * MIN, 'alice'))
    await store.access.set('mid', sessionOf(redis, 10 * MIN, 'alice'))
    await store.access.set('bob', sessionOf(redis, 1 * MIN, 'bob'))
    assert.is(redis.keyspace.get('sessions:old')?.type, 'string', 'at the cap, nothing is destroyed')
    // The new one expires first of all, yet it is the one just written: the oldest other goes.
    assert.is(await store.access.set('new', sessionOf(redis, 2 * MIN, 'alice')), 'written')
    assert.is(redis.keyspace.get('sessions:old')?.type, 'hash', 'the session expiring first became a tombstone')
    assert.equal(
      (await store.access.sessionsOf('alice')).map((s) => s.id),
      ['new', 'mid']
    )
    assert.equal(Object.keys(members(redis, 'alice') ?? {}).sort(), ['mid', 'new'])
    assert.is(redis.keyspace.get('sessions:bob')?.type, 'string', 'other owners are not touched')
    // Ids of sessions already gone do not count against the cap: nothing live is destroyed for them.
    await store.access.destroy('mid')
    await store.access.set('third', sessionOf(redis, 8 * MIN, 'alice'))
    assert.is(redis.keyspace.get('sessions:new')?.type, 'string')
    assert.equal(
      (await store.access.sessionsOf('alice')).map((s) => s.id),
      ['new', 'third']
    )
  }
)

owners('cost: without ownerOf a set is one SET; with it, one script on the index, then SET', async ({ redis }) => {
  const plain = createRedisStore(redis, { now: redis.now, checkEvictionPolicy: false })
  await plain.access.set('a', sessionOf(redis, MIN, 'alice'))
  assert.equal(
    redis.calls.map((c) => c[0]),
    ['SET']
  )
  await rejects(plain.access.sessionsOf('alice'), /needs the ownerOf option/)
  redis.calls.length = 0
  const indexed = storeOn(redis)
  await indexed.access.set('b', sessionOf(redis, MIN, 'alice'))
  assert.equal(
    redis.calls.map((c) => [c[0], c[1] === OWNER_ADD_SCRIPT.sha1 ? 'add' : c[1]]),
    [
      ['EVALSHA', 'add'],
      ['SET', 'sessions:b']
    ]
  )
  redis.calls.length = 0
  await indexed.access.sessionsOf('alice')
  assert.equal(
    redis.calls.map((c) => [c[0], c[1] === OWNER_LIST_SCRIPT.sha1 ? 'list' : c[1]]),
    [
      ['EVALSHA', 'list'],
      ['MGET', 'sessions:b']
    ]
  )
  redis.calls.length = 0
  await indexed.access.destroySessionsOf('alice')
  assert.equal(
    redis.calls.map((c) => c[0]),
    ['EVALSHA', 'MGET', 'EVALSHA', 'EVALSHA'],
    'list, read, tombstones (one script), drop from the index'
  )
})

owners('ownerOf answering no owner fails the set before anything is written', async ({ redis }) => {
  const store = createRedisStore(redis, { now: redis.now, checkEvictionPolicy: false, ownerOf: () => '' })
  await rejects(
    store.access.set('a', sessionOf(redis, MIN)),
    /^Invalid owner: the one ownerOf\(session\) answered: it is empty$/
  )
  await rejects(store.access.sessionsOf(''), /^Invalid owner: it is empty$/)
  const throwing = createRedisStore(redis, {
    now: redis.now,
    checkEvictionPolicy: false,
    ownerOf: () => {
      throw new Error('no user table')
    }
  })
  await rejects(throwing.access.set('a', sessionOf(redis, MIN)), /no user table/)
  assert.equal(redis.keyspace.keys(), [])
})

owners(
  'the batched operations never take an index for a session, even with strictSessionIds false',
  async ({ redis }) => {
    const store = storeOn(redis, { strictSessionIds: false })
    await store.access.set('a:1', sessionOf(redis, MIN, 'alice'))
    await store.access.set('b', sessionOf(redis, MIN, 'alice'))
    assert.is(await store.access.length(), 2)
    assert.equal([...(await store.access.ids())].sort(), ['a:1', 'b'])
    assert.is(await store.access.clear(), 2)
    assert.ok(redis.keyspace.get('session-owners:alice') !== undefined, 'clear leaves the index (pruned on read)')
    assert.equal(await store.access.sessionsOf('alice'), [])
    assert.is(redis.keyspace.get('session-owners:alice'), undefined)
  }
)

owners('options: ownerOf, ownerIndexPrefix and maxSessionsPerOwner are checked', () => {
  const problem = (o: StoreOptions): string => {
    const r = resolveOptions(o)
    return r._tag === 'Left' ? r.left.message : ''
  }
  assert.match(problem({ ownerOf: 'userId' as never }), /ownerOf must be a function/)
  assert.match(problem({ ownerOf, ownerIndexPrefix: 'sessions:owners:' }), /must not start with one another/)
  assert.match(problem({ ownerOf, prefix: 'own:', ownerIndexPrefix: 'own:' }), /must not start with one another/)
  assert.match(problem({ ownerOf, ownerIndexPrefix: 'owners' }), /ownerIndexPrefix must end with a separator/)
  assert.match(problem({ ownerOf, ownerIndexPrefix: '{o}:' }), /ownerIndexPrefix must not contain/)
  assert.match(problem({ maxSessionsPerOwner: 3 }), /maxSessionsPerOwner needs options.ownerOf/)
  assert.match(
    problem({ ownerOf, maxSessionsPerOwner: 1.5 }),
    /maxSessionsPerOwner must be an integer of sessions from 0 to 10000 .*got 1.5$/
  )
  const ok = resolveOptions({ ownerOf })
  assert.ok(
    ok._tag === 'Right' && ok.right.ownerIndexPrefix === 'session-owners:' && ok.right.maxSessionsPerOwner === 0
  )
})

owners(
  'encrypted sessions (the sid as associated data): listed, moved and destroyed as plain ones',
  async ({ redis }) => {
    const store = storeOn(redis, { serializer: encryptedSerializer({ keys: [{ id: 'k1', key: randomBytes(32) }] }) })
    await store.access.set('a', sessionOf(redis, MIN, 'alice'))
    await store.access.set('b', sessionOf(redis, MIN, 'alice'))
    assert.equal(
      (await store.access.sessionsOf('alice')).map((s) => [s.id, ownerOf(s.session)]),
      [
        ['a', 'alice'],
        ['b', 'alice']
      ]
    )
    await store.access.set('b', sessionOf(redis, MIN, 'bob'))
    assert.equal(Object.keys(members(redis, 'alice') ?? {}), ['a'], 'the previous owner was read from the ciphertext')
    assert.is(await store.access.destroySessionsOf('alice'), 1)
    assert.equal(
      (await store.access.sessionsOf('bob')).map((s) => s.id),
      ['b']
    )
  }
)

owners('with absoluteLifetimeSeconds: the index scores each id by the capped expiry its key got', async ({ redis }) => {
  const store = storeOn(redis, { absoluteLifetimeSeconds: 60 })
  await store.access.set('laptop', sessionOf(redis, 24 * 60 * MIN, 'alice'))
  assert.is(redis.keyspace.pttl('sessions:laptop'), MIN)
  assert.equal(members(redis, 'alice'), { laptop: redis.now() + MIN })
  redis.clock.advance(30_000)
  const [listed] = await store.access.sessionsOf('alice')
  assert.ok(listed !== undefined)
  await store.access.touch('laptop', { ...listed.session, cookie: sessionOf(redis, 24 * 60 * MIN).cookie })
  assert.is(redis.keyspace.pttl('sessions:laptop'), 30_000, 'renewed only up to the end')
  assert.equal(members(redis, 'alice'), { laptop: redis.now() + 30_000 })
})

owners.run()

// --- the two steps of an indexed save, when one fails

const steps = suite<{ redis: FakeRedis; failing: Set<string>; client: FakeRedis }>(
  'owner index: a failed step of a save or touch'
)
steps.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  ctx.failing = new Set()
  // The fake, with the scripts whose SHA1 is in `failing` refused (as ACLs, OOM or a lost connection would).
  ctx.client = {
    ...ctx.redis,
    evalSha: (sha1, args) =>
      ctx.failing.has(sha1) ? Promise.reject(new Error('ERR injected index failure')) : ctx.redis.evalSha(sha1, args)
  }
})

/** A store whose `ttl` function counts its calls (a minute, like the sessions of `sessionOf`). */
const counting = (client: FakeRedis, options: StoreOptions = {}) => {
  let calls = 0
  const store = createRedisStore(client, {
    now: client.now,
    checkEvictionPolicy: false,
    ownerOf,
    ttl: () => (calls++, 60),
    ...options
  })
  return { store, calls: () => calls }
}

steps('the index write fails: the save fails and nothing is stored; the ttl function ran once', async (ctx) => {
  const { store, calls } = counting(ctx.client)
  ctx.failing.add(OWNER_ADD_SCRIPT.sha1)
  await rejects(store.access.set('s', sessionOf(ctx.redis, MIN, 'alice')), /^Redis EVALSHA .*injected index failure/)
  assert.is(calls(), 1)
  assert.equal(ctx.redis.keyspace.keys(), [], 'no session, no index')
  ctx.failing.clear()
  assert.is(await store.access.set('s', sessionOf(ctx.redis, MIN, 'alice')), 'written')
  assert.is(calls(), 2, 'once per save')
  assert.equal(
    (await store.access.sessionsOf('alice')).map((x) => x.id),
    ['s']
  )
})

steps(
  'the SET fails after the index write: the save fails; sessionsOf never lists the id, and drops it',
  async (ctx) => {
    const { store, calls } = counting(ctx.client)
    ctx.redis.faults.fail('SET', { times: 1 })
    await rejects(store.access.set('s', sessionOf(ctx.redis, MIN, 'alice')), /^Redis SET .*failed/)
    assert.is(calls(), 1)
    assert.is(ctx.redis.keyspace.get('sessions:s'), undefined)
    assert.equal(Object.keys(members(ctx.redis, 'alice') ?? {}), ['s'], 'listed before it was stored')
    assert.equal(await store.access.sessionsOf('alice'), [])
    assert.is(members(ctx.redis, 'alice'), undefined, 'the read dropped it')
  }
)

steps(
  "an owner change whose previous owner's index fails: 'written', and that index drops the id on its next read",
  async (ctx) => {
    const store = createRedisStore(ctx.client, { now: ctx.redis.now, checkEvictionPolicy: false, ownerOf })
    await store.access.set('s', sessionOf(ctx.redis, MIN, 'alice'))
    ctx.failing.add(OWNER_LIST_SCRIPT.sha1)
    assert.is(await store.access.set('s', sessionOf(ctx.redis, MIN, 'bob')), 'written')
    assert.equal(Object.keys(members(ctx.redis, 'alice') ?? {}), ['s'], "the id is still in alice's index")
    ctx.failing.clear()
    assert.equal(await store.access.sessionsOf('alice'), [], "never listed: the session is bob's")
    assert.is(members(ctx.redis, 'alice'), undefined)
    assert.equal(
      (await store.access.sessionsOf('bob')).map((x) => x.id),
      ['s']
    )
    assert.is(await store.access.destroySessionsOf('alice'), 0, "alice's logout everywhere leaves bob's session")
  }
)

steps(
  "the cap's step fails: 'written' with one session over the cap; the owner's next save enforces it",
  async (ctx) => {
    const store = createRedisStore(ctx.client, {
      now: ctx.redis.now,
      checkEvictionPolicy: false,
      ownerOf,
      maxSessionsPerOwner: 1
    })
    await store.access.set('a', sessionOf(ctx.redis, MIN, 'alice'))
    ctx.failing.add(OWNER_LIST_SCRIPT.sha1)
    assert.is(await store.access.set('b', sessionOf(ctx.redis, 2 * MIN, 'alice')), 'written')
    assert.is(ctx.redis.keyspace.get('sessions:a')?.type, 'string', 'over the cap for now')
    ctx.failing.clear()
    assert.is(await store.access.set('b', sessionOf(ctx.redis, 2 * MIN, 'alice')), 'written')
    assert.is(ctx.redis.keyspace.get('sessions:a')?.type, 'hash', 'the next save destroyed the one expiring first')
    assert.equal(
      (await store.access.sessionsOf('alice')).map((x) => x.id),
      ['b']
    )
  }
)

steps('touch: the index write fails, so the touch fails and the key is not renewed', async (ctx) => {
  const store = createRedisStore(ctx.client, { now: ctx.redis.now, checkEvictionPolicy: false, ownerOf })
  await store.access.set('s', sessionOf(ctx.redis, MIN, 'alice'))
  ctx.redis.clock.advance(MIN / 2)
  ctx.failing.add(OWNER_ADD_SCRIPT.sha1)
  await rejects(store.access.touch('s', sessionOf(ctx.redis, MIN, 'alice')), /injected index failure/)
  assert.is(ctx.redis.keyspace.pttl('sessions:s'), MIN / 2, 'not renewed')
  assert.equal(members(ctx.redis, 'alice'), { s: ctx.redis.now() + MIN / 2 }, 'the index still has its expiry')
  ctx.failing.clear()
  assert.is(await store.access.touch('s', sessionOf(ctx.redis, MIN, 'alice')), true)
  assert.is(ctx.redis.keyspace.pttl('sessions:s'), MIN)
  assert.equal(members(ctx.redis, 'alice'), { s: ctx.redis.now() + MIN })
})

steps('an id the store refuses is indexed by neither set nor touch', async (ctx) => {
  const store = createRedisStore(ctx.client, { now: ctx.redis.now, checkEvictionPolicy: false, ownerOf })
  await rejects(store.access.set('bad id', sessionOf(ctx.redis, MIN, 'alice')), /^Invalid session id/)
  await rejects(store.access.touch('bad id', sessionOf(ctx.redis, MIN, 'alice')), /^Invalid session id/)
  assert.equal(ctx.redis.keyspace.keys(), [])
  assert.equal(ctx.redis.calls, [])
})

steps('the ttl function runs once per save, whatever the save does', async (ctx) => {
  const { store, calls } = counting(ctx.client, { maxSessionsPerOwner: 1 })
  await store.access.set('a', sessionOf(ctx.redis, MIN)) // anonymous
  await store.access.set('a', sessionOf(ctx.redis, MIN, 'alice')) // login: an owner change
  await store.access.set('b', sessionOf(ctx.redis, MIN, 'alice')) // over the cap
  await store.access.set('a', sessionOf(ctx.redis, MIN, 'alice')) // refused: a tombstone
  assert.is(calls(), 4)
  assert.is(ctx.redis.keyspace.get('sessions:a')?.type, 'hash')
})

steps.run()
