/**
 * The `withOwnerIndex` feature (`ownerOf`): which sessions belong to one user, for "your devices" and "log out
 * everywhere". It decorates the operations record (indexed `set` and `touch`, and `sessionsOf` and
 * `destroySessionsOf`); a store without `ownerOf` never builds it. The type it is about is `OwnerIndexDeps`, what the
 * index is built from.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as TE from 'fp-ts/lib/TaskEither'
import type { SessionData } from 'express-session'
import { attempt, isValues, runScript, unexpectedReply } from '../client/run'
import type { RedisLike, SessionClient } from '../client/contract'
import { mGetBySlot } from '../client/slot'
import { commandFailed, defect, invalidOwner, type StoreError } from '../errors'
import { makeKeyOf, sessionIdProblem } from '../keys'
import { OWNER_ADD_SCRIPT, OWNER_LIST_SCRIPT } from '../scripts'
import { parseStored } from '../serializer/serializer'
import { computeTtl, type ExpiryBound } from '../ttl'
import {
  overBoth,
  type Feature,
  type OwnedSession,
  type SetCondition,
  type SetOutcome,
  type StoreOperations
} from './model'
import { makePrepareSet, makeSendSet, type SetDeps } from './set'
import { makeTombstone } from './tombstone'

// --- model

/**
 * @category model
 * @since 0.1.0
 */
export interface OwnerIndexDeps extends Omit<SetDeps<SessionData>, 'acrossSlots'> {
  /**
   * On a Redis Cluster (`cluster` set) the sessions of one owner live in many hash slots, so reads and tombstones go
   * out one call per slot, all at once (`keyPrefix`, the client's own, decides the slots).
   */
  readonly client: SetDeps<SessionData>['client'] &
    Pick<RedisLike, 'mGet'> &
    Pick<SessionClient, 'cluster' | 'keyPrefix'>
  /** The owner of a session (a user id), or `undefined` for an anonymous one, which no index lists. */
  readonly ownerOf: (session: SessionData) => string | undefined
  /** Put before an owner to make its index key. Must not overlap `prefix`, so that `SCAN` never meets an index. */
  readonly ownerIndexPrefix: string
  /** Above this many sessions of one owner, `set` destroys the ones that expire first. `0`: no cap. */
  readonly maxSessionsPerOwner: number
  /** Told about each corrupt value met while listing. */
  readonly reportCorrupt?: (e: StoreError) => void
}

/** An index read: the sessions still owned, and the ids to drop (gone, or owned by someone else now). */
interface Listing {
  readonly owned: ReadonlyArray<OwnedSession<SessionData>>
  readonly stale: ReadonlyArray<string>
}

/** The index script's reply: `[id, expiresAt, …]`, each id a string, each expiry a number (or its text). */
const isIdsAndExpiries = (reply: unknown): reply is ReadonlyArray<string | number> =>
  Array.isArray(reply) &&
  reply.length % 2 === 0 &&
  reply.every((v, i) =>
    i % 2 === 0 ? typeof v === 'string' : (typeof v === 'string' || typeof v === 'number') && Number.isFinite(Number(v))
  )

const ownerProblem = (owner: unknown): string | undefined => sessionIdProblem(owner, false)

// --- constructors

/** The owner index of `deps`: its `set`, a renewal of a `touch`, and the two operations it makes possible. */
const makeOwnerIndex = (deps: OwnerIndexDeps) => {
  const { client, prefix, ownerIndexPrefix } = deps
  const cap = deps.maxSessionsPerOwner
  const add = runScript(client, OWNER_ADD_SCRIPT)
  const list = runScript(client, OWNER_LIST_SCRIPT)
  const parse = parseStored(deps.serializer, deps.maxPayloadBytes)
  const ttlOf = computeTtl(deps)
  // Tombstones as destroy writes them. One node: the keys of one call go together; a cluster: the sessions of an
  // owner live on any node, so one call per slot, all at once. The set writes one key: it needs no acrossSlots.
  const across = client.cluster === undefined ? undefined : { keyPrefix: client.keyPrefix, acrossNodes: true }
  const tombstone = makeTombstone(across === undefined ? deps : { ...deps, acrossSlots: across })
  const indexKey = (owner: string): string => ownerIndexPrefix + owner

  /** The owner of a session, checked: `ownerOf` throwing or answering something that is no owner is a failure. */
  const ownerOf = (sess: SessionData): E.Either<StoreError, string | undefined> => {
    let owner: unknown
    try {
      owner = deps.ownerOf(sess)
    } catch (e) {
      return E.left(defect(e))
    }
    if (owner === undefined) return E.right(undefined)
    const problem = ownerProblem(owner)
    return problem === undefined
      ? E.right(owner as string)
      : E.left(invalidOwner(`the one ownerOf(session) answered: ${problem}`))
  }
  /** The owner of a stored value, if it parses and has one; anything else owns nothing. */
  const ownerOfStored = (sid: string, raw: unknown): string | undefined => {
    if (typeof raw !== 'string') return undefined
    const parsed = parse(prefix + sid, raw, sid)
    if (E.isLeft(parsed)) return undefined
    const owner = ownerOf(parsed.right)
    return E.isRight(owner) ? owner.right : undefined
  }

  const record = (owner: string, sid: string, expiresAt: number): TE.TaskEither<StoreError, number> =>
    TE.map(Number)(
      add({ keys: [indexKey(owner)], arguments: [String(deps.now()), sid, String(Math.round(expiresAt))] })
    )
  /** Takes `sids` and the expired ids out of the owner's index; replies every id left with its expiry. */
  const removeFromIndex = (owner: string, sids: ReadonlyArray<string>): TE.TaskEither<StoreError, unknown> =>
    list({ keys: [indexKey(owner)], arguments: [String(deps.now()), ...sids] })
  /** The owner's index, its expired ids dropped: `[id, expiresAt, id, expiresAt, …]`, those expiring first first. */
  const listIndex = (owner: string): TE.TaskEither<StoreError, unknown> => removeFromIndex(owner, [])

  /** Values of session keys, in order: one `MGET` on one node; on a cluster one per slot, all sent at once. */
  const readValues = (keys: ReadonlyArray<string>): TE.TaskEither<StoreError, ReadonlyArray<unknown>> => {
    if (keys.length === 0) return TE.right([])
    const mGet = (ks: Array<string>) => client.mGet(ks)
    const read = () =>
      across === undefined ? attempt(() => mGet([...keys])) : mGetBySlot(mGet, keys, across.keyPrefix, 1000)
    const first = keys[0] ?? ''
    return () =>
      read().then(
        (values: unknown) =>
          isValues(values, keys.length)
            ? E.right(values)
            : E.left(unexpectedReply('MGET', first, values, `a list of ${keys.length} values`)),
        (cause: unknown) => E.left(commandFailed('MGET', first, cause))
      )
  }

  /** The owner's index, pruned, and each listed session read and checked: still there, still the owner's. */
  const read = (owner: string): TE.TaskEither<StoreError, Listing> => {
    const problem = ownerProblem(owner)
    if (problem !== undefined) return TE.left(invalidOwner(problem))
    return () =>
      listIndex(owner)().then((reply) => {
        if (E.isLeft(reply)) return reply
        if (!isIdsAndExpiries(reply.right))
          return E.left(unexpectedReply('EVALSHA', indexKey(owner), reply.right, '[id, expiresAt, …]'))
        const flat = reply.right
        const listed: Array<{ readonly id: string; readonly expiresAt: number }> = []
        for (let i = 0; i + 1 < flat.length; i += 2)
          listed.push({ id: String(flat[i]), expiresAt: Number(flat[i + 1]) })
        const keys = listed.map((l) => prefix + l.id)
        return readValues(keys)().then(
          E.map((values) => {
            const owned: Array<OwnedSession<SessionData>> = []
            const stale: Array<string> = []
            listed.forEach(({ id, expiresAt }, i) => {
              const raw = values[i]
              if (typeof raw !== 'string') return void stale.push(id)
              const parsed = parse(keys[i] as string, raw, id)
              // A corrupt value is reported and left out, not dropped: the session is there, someone should look.
              if (E.isLeft(parsed)) return void deps.reportCorrupt?.(parsed.left)
              const current = ownerOf(parsed.right)
              if (E.isRight(current) && current.right === owner) owned.push({ id, session: parsed.right, expiresAt })
              else stale.push(id)
            })
            return { owned, stale }
          })
        )
      })
  }

  /** Tombstones `sids` (each live one counted), then takes them and the stale ids out of the index. */
  const destroyListed = (
    owner: string,
    sids: ReadonlyArray<string>,
    stale: ReadonlyArray<string>
  ): TE.TaskEither<StoreError, number> =>
    TE.flatMap((n: number) =>
      sids.length + stale.length === 0 ? TE.right(n) : TE.as(n)(removeFromIndex(owner, [...sids, ...stale]))
    )(tombstone(sids.map((sid) => prefix + sid)))

  const enforceCap = (owner: string, sid: string): TE.TaskEither<StoreError, number> =>
    TE.flatMap(({ owned, stale }: Listing) => {
      const excess = owned.length - cap
      const victims = owned
        .filter((s) => s.id !== sid)
        .slice(0, Math.max(0, excess))
        .map((s) => s.id)
      return destroyListed(owner, victims, stale)
    })(read(owner))

  const prepare = makePrepareSet(deps)
  const send = makeSendSet(
    deps,
    (previous): { readonly outcome: SetOutcome; readonly previous: unknown } => ({ outcome: 'written', previous }),
    (outcome) => ({ outcome, previous: null })
  )
  /** A step that only tidies the index: what its failure leaves, a later read or save repairs; the save goes on. */
  const tidy = (step: TE.TaskEither<StoreError, unknown>): Promise<void> =>
    step().then(
      () => undefined,
      () => undefined
    )
  const keyOf = makeKeyOf(deps)

  /**
   * The id's expiry in its owner's index, then the renewal of `touch`: the index is written first, so a renewed
   * session is always listed (a failed index write fails the touch, and nothing is renewed).
   */
  const indexed =
    (touch: StoreOperations['touch']): StoreOperations['touch'] =>
    (sid, sess, bound) =>
    () => {
      const owner = ownerOf(sess)
      if (E.isLeft(owner)) return Promise.resolve(owner)
      const ttl = ttlOf(sid, sess, bound)
      // Nothing to index (or an id or TTL `touch` refuses before sending anything): `touch` alone.
      if (owner.right === undefined || E.isLeft(keyOf(sid)) || E.isLeft(ttl) || ttl.right <= 0)
        return touch(sid, sess, bound)()
      const renew = touch(sid, sess, bound)
      return record(owner.right, sid, deps.now() + ttl.right)().then((r) => (E.isLeft(r) ? r : renew()))
    }
  return {
    set:
      (
        sid: string,
        sess: SessionData,
        bound?: ExpiryBound,
        condition?: SetCondition
      ): TE.TaskEither<StoreError, SetOutcome> =>
      () => {
        const owner = ownerOf(sess)
        if (E.isLeft(owner)) return Promise.resolve(owner)
        // Every check, and the ttl function (once), before anything is sent.
        const prepared = prepare(sid, sess, bound, condition)
        if (E.isLeft(prepared)) return Promise.resolve(prepared)
        const { ttlMs } = prepared.right
        // The index first: once the session is stored, its owner's index lists it. A failed index write fails the
        // save with nothing stored; a failed SET after it leaves an id whose session is gone, which reads drop.
        const listed =
          owner.right === undefined || ttlMs <= 0 ? TE.right(0) : record(owner.right, sid, deps.now() + ttlMs)
        return listed().then((count) => {
          if (E.isLeft(count)) return count
          return send(prepared.right)().then(async (r) => {
            if (E.isLeft(r)) return r
            if (r.right.outcome !== 'written') return E.right(r.right.outcome)
            // The session is stored and listed: what follows only tidies, and never fails the save.
            const before = r.right.previous === null ? undefined : ownerOfStored(sid, r.right.previous)
            await Promise.all([
              before !== undefined && before !== owner.right ? tidy(removeFromIndex(before, [sid])) : undefined,
              cap > 0 && count.right > cap && owner.right !== undefined ? tidy(enforceCap(owner.right, sid)) : undefined
            ])
            return E.right<StoreError, SetOutcome>('written')
          })
        })
      },
    indexed,
    sessionsOf: (owner: string): TE.TaskEither<StoreError, ReadonlyArray<OwnedSession<SessionData>>> =>
      TE.flatMap(({ owned, stale }: Listing) =>
        stale.length === 0 ? TE.right(owned) : TE.as(owned)(removeFromIndex(owner, stale))
      )(read(owner)),
    destroySessionsOf: (owner: string, options: { readonly except?: string } = {}): TE.TaskEither<StoreError, number> =>
      TE.flatMap(({ owned, stale }: Listing) =>
        destroyListed(
          owner,
          owned.filter((s) => s.id !== options.except).map((s) => s.id),
          stale
        )
      )(read(owner))
  }
}

// --- features

/**
 * The owner index: one Redis sorted set per owner (`ownerIndexPrefix + owner`), its members the owner's session ids
 * scored by their expiry. The index may list more than the live sessions, never fewer: `set` writes the id into its
 * owner's index first (with the expiry the key will get; one more round trip), then the session, so a stored session
 * is always listed. A failed index write fails the save with nothing stored; a failed `SET` after it leaves an id
 * whose session is gone, which reads drop. On an owner change (a login on an anonymous session, or another user) the
 * id then leaves the previous owner's index (known from what `SET … GET` replied); that step, and the cap below, only
 * tidy: their failure leaves a stale id (dropped by the next read of that index) or one session over the cap (the
 * owner's next save enforces it), and the save still answers `'written'`. `touch` likewise renews the id's expiry in
 * the index before the key's. Every write to an index drops the ids whose expiry is past and makes the index itself
 * expire with its last session; `sessionsOf` and `destroySessionsOf` drop the ids whose session is gone or owned by
 * someone else. The sessions are the truth, the index only says where to look: a session listed by the index but
 * gone is never returned. The `ttl` function runs once per `set`.
 *
 * `destroySessionsOf` reads the owner's sessions and replaces each by a tombstone, as `destroy` does: a request of
 * that user still in flight cannot save or touch one back. With `maxSessionsPerOwner`, a `set` that takes an owner
 * over the cap destroys that owner's sessions that expire first (the least recently active), never the one written.
 *
 * `set` is the index's own, built from `deps` rather than over the `set` it decorates: on an owner change it needs
 * the session as it was, which its `SET … GET` replies and the record's `set` does not pass on. `touch` and
 * `sessionTouch` are built over the ones they decorate. A bound on the expiry (`ExpiryBound`) is passed through,
 * and the index scores each id by the expiry its key got.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import type { SessionData } from 'express-session'
 * import { pipe } from 'fp-ts/function'
 * import { baseOperations, resolveOptions, withOwnerIndex } from 'connect-redis-session/operations'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 *
 * const client = createMemoryClient()
 * const ownerOf = (session: SessionData) => (session as { userId?: string }).userId
 * const options = resolveOptions({ now: client.clock.now, ownerOf })
 * assert.ok(E.isRight(options))
 * const deps = { ...options.right, client }
 * const ops = pipe(baseOperations(deps), withOwnerIndex({ ...deps, ownerOf }))
 * const session = (userId?: string) =>
 *   ({ cookie: { expires: new Date(client.clock.now() + 60_000) }, ...(userId === undefined ? {} : { userId }) }) as unknown as SessionData
 * const ids = E.map((sessions: ReadonlyArray<{ readonly id: string }>) => sessions.map((s) => s.id))
 *
 * async function main() {
 *   await ops.set('laptop', session('alice'))()
 *   await ops.set('phone', session('alice'))()
 *   await ops.set('guest', session())() // anonymous: in no index
 *   assert.deepStrictEqual(ids(await ops.sessionsOf('alice')()), E.right(['laptop', 'phone']))
 *   // Log out everywhere but here: the phone's session becomes a tombstone.
 *   assert.deepStrictEqual(await ops.destroySessionsOf('alice', { except: 'laptop' })(), E.right(1))
 *   assert.strictEqual(client.keyspace.get('sessions:phone')?.type, 'hash')
 *   assert.deepStrictEqual(ids(await ops.sessionsOf('alice')()), E.right(['laptop']))
 * }
 * main()
 *
 * @category features
 * @since 0.1.0
 */
export const withOwnerIndex = (deps: OwnerIndexDeps): Feature => {
  const index = makeOwnerIndex(deps)
  return (ops) => {
    const [touch, sessionTouch] = overBoth(index.indexed, ops.touch, ops.sessionTouch)
    return {
      ...ops,
      set: index.set,
      touch,
      sessionTouch,
      sessionsOf: index.sessionsOf,
      destroySessionsOf: index.destroySessionsOf
    }
  }
}
