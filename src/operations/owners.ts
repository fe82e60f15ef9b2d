/**
 * The owner index (`ownerOf`): which sessions belong to one user, for "your devices" and "log out everywhere".
 * Built over the store's own operations, not inside them: a store without `ownerOf` never builds it.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as TE from 'fp-ts/lib/TaskEither'
import { attempt, runScript } from '../client/run'
import type { RedisLike } from '../client/contract'
import { bySlot } from '../client/slot'
import { commandFailed, defect, invalidId, type StoreError } from '../errors'
import { sessionIdProblem } from '../keys'
import { OWNER_ADD_SCRIPT, OWNER_LIST_SCRIPT } from '../scripts'
import { parseStored } from '../serializer/serializer'
import { computeTtl, type Expiring } from '../ttl'
import { makeSetReplying, type SetDeps, type SetOutcome } from './set'
import { makeTombstone } from './tombstone'

// --- model

/**
 * One session of an owner, as `sessionsOf` lists it: its id, the session, and when it expires (ms since the epoch,
 * as of its last `set` or `touch`).
 *
 * @category model
 * @since 0.1.0
 */
export interface OwnedSession<A> {
  readonly id: string
  readonly session: A
  readonly expiresAt: number
}

/**
 * @category model
 * @since 0.1.0
 */
export interface OwnerIndexDeps<A> extends SetDeps<A> {
  readonly client: SetDeps<A>['client'] & Pick<RedisLike, 'mGet'>
  /** The owner of a session (a user id), or `undefined` for an anonymous one, which no index lists. */
  readonly ownerOf: (session: A) => string | undefined
  /** Put before an owner to make its index key. Must not overlap `prefix`, so that `SCAN` never meets an index. */
  readonly ownerIndexPrefix: string
  /** Above this many sessions of one owner, `set` destroys the ones that expire first. `0`: no cap. */
  readonly maxSessionsPerOwner: number
  /** The store's `touch`, which the index wraps: a renewed session's expiry is renewed in its owner's index too. */
  readonly touch: (sid: string, session: A) => TE.TaskEither<StoreError, boolean>
  /** Told about each corrupt value met while listing. */
  readonly reportCorrupt?: (e: StoreError) => void
  /**
   * Set on a Redis Cluster: the sessions of one owner live in many hash slots, so reads and tombstones go out one
   * call per slot, all at once (`keyPrefix`, the client's own, decides the slots).
   */
  readonly acrossSlots?: { readonly keyPrefix: string }
}

/**
 * The indexed `set` and `touch` that replace the store's, and the two operations the index makes possible.
 *
 * @category model
 * @since 0.1.0
 */
export interface OwnerIndex<A> {
  readonly set: (sid: string, session: A) => TE.TaskEither<StoreError, SetOutcome>
  readonly touch: (sid: string, session: A) => TE.TaskEither<StoreError, boolean>
  /** The live sessions of `owner`, those expiring first first. */
  readonly sessionsOf: (owner: string) => TE.TaskEither<StoreError, ReadonlyArray<OwnedSession<A>>>
  /** Destroys every session of `owner` but `except`, each leaving a tombstone; resolves to how many were live. */
  readonly destroySessionsOf: (
    owner: string,
    options?: { readonly except?: string }
  ) => TE.TaskEither<StoreError, number>
}

/** An index read: the sessions still owned, and the ids to drop (gone, or owned by someone else now). */
interface Listing<A> {
  readonly owned: ReadonlyArray<OwnedSession<A>>
  readonly stale: ReadonlyArray<string>
}

const ownerProblem = (owner: unknown): string | undefined => {
  const problem = sessionIdProblem(owner, false)
  return problem === undefined ? undefined : `invalid owner: ${problem}`
}

const sum = (counts: ReadonlyArray<E.Either<StoreError, number>>): E.Either<StoreError, number> => {
  let total = 0
  for (const c of counts) {
    if (E.isLeft(c)) return c
    total += c.right
  }
  return E.right(total)
}

// --- constructors

/**
 * The owner index: one Redis sorted set per owner (`ownerIndexPrefix + owner`), its members the owner's session ids
 * scored by their expiry. `set` writes the session first, then, once Redis took it, its id into its owner's index
 * (one more round trip), and on an owner change (a login on an anonymous session, or another user) takes it out of
 * the previous owner's (known from what `SET … GET` replied; in parallel). `touch` renews the id's expiry in the
 * index after a renewal. Every write to an index drops the ids whose expiry is past and makes the index itself
 * expire with its last session; `sessionsOf` and `destroySessionsOf` drop the ids whose session is gone or owned by
 * someone else. The sessions are the truth, the index only says where to look: a session listed by the index but
 * gone is never returned.
 *
 * `destroySessionsOf` reads the owner's sessions and replaces each by a tombstone, as `destroy` does: a request of
 * that user still in flight cannot save or touch one back. With `maxSessionsPerOwner`, a `set` that takes an owner
 * over the cap destroys that owner's sessions that expire first (the least recently active), never the one written.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import * as TE from 'fp-ts/TaskEither'
 * import { makeOwnerIndex } from 'connect-redis-session/operations'
 * import { fromPlainSerializer } from 'connect-redis-session/serializer'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 *
 * type Session = { readonly cookie: { readonly expires: string }; readonly userId?: string }
 *
 * const client = createMemoryClient()
 * const index = makeOwnerIndex({
 *   client,
 *   prefix: 'sessions:',
 *   ownerIndexPrefix: 'session-owners:',
 *   ownerOf: (session: Session) => session.userId,
 *   maxSessionsPerOwner: 0,
 *   serializer: fromPlainSerializer<Session>(JSON),
 *   now: client.clock.now,
 *   ttlSeconds: 86400,
 *   concurrencyGraceSeconds: 300,
 *   touch: () => TE.right(true) // the store's own touch, which the index wraps
 * })
 * const cookie = { expires: new Date(client.clock.now() + 60_000).toISOString() }
 * const ids = E.map((sessions: ReadonlyArray<{ readonly id: string }>) => sessions.map((s) => s.id))
 *
 * async function main() {
 *   await index.set('laptop', { cookie, userId: 'alice' })()
 *   await index.set('phone', { cookie, userId: 'alice' })()
 *   await index.set('guest', { cookie })() // anonymous: in no index
 *   assert.deepStrictEqual(ids(await index.sessionsOf('alice')()), E.right(['laptop', 'phone']))
 *   // Log out everywhere but here: the phone's session becomes a tombstone.
 *   assert.deepStrictEqual(await index.destroySessionsOf('alice', { except: 'laptop' })(), E.right(1))
 *   assert.strictEqual(client.keyspace.get('sessions:phone')?.type, 'hash')
 *   assert.deepStrictEqual(ids(await index.sessionsOf('alice')()), E.right(['laptop']))
 * }
 * main()
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeOwnerIndex = <A extends Expiring>(deps: OwnerIndexDeps<A>): OwnerIndex<A> => {
  const { client, prefix, ownerIndexPrefix } = deps
  const cap = deps.maxSessionsPerOwner
  const add = runScript(client, OWNER_ADD_SCRIPT)
  const list = runScript(client, OWNER_LIST_SCRIPT)
  const parse = parseStored(deps.serializer, deps.maxPayloadBytes)
  const ttlOf = computeTtl(deps)
  // Tombstones as destroy writes them. One node: the keys of one call go together; a cluster (acrossSlots): one
  // call per slot, all at once. The set inside the index writes one key, so it needs no acrossSlots either.
  const { acrossSlots: across, ...oneSlot } = deps
  const tombstoneSlot = makeTombstone(oneSlot)
  const tombstone = (keys: ReadonlyArray<string>): TE.TaskEither<StoreError, number> =>
    across === undefined || keys.length === 0
      ? tombstoneSlot(keys)
      : () =>
          Promise.all(bySlot(keys, (k) => across.keyPrefix + k, 1000).map((group) => tombstoneSlot(group)())).then(sum)
  const indexKey = (owner: string): string => ownerIndexPrefix + owner

  /** The owner of a session, checked: `ownerOf` throwing or answering something that is no owner is a failure. */
  const ownerOf = (sess: A): E.Either<StoreError, string | undefined> => {
    let owner: unknown
    try {
      owner = deps.ownerOf(sess)
    } catch (e) {
      return E.left(defect(e))
    }
    if (owner === undefined) return E.right(undefined)
    const problem = ownerProblem(owner)
    return problem === undefined ? E.right(owner as string) : E.left(invalidId(`ownerOf answered an ${problem}`))
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
  const drop = (owner: string, sids: ReadonlyArray<string>): TE.TaskEither<StoreError, unknown> =>
    list({ keys: [indexKey(owner)], arguments: [String(deps.now()), ...sids] })

  /** Values of session keys, in order: one `MGET` on one node; on a cluster one per slot, all sent at once. */
  const readValues = (keys: ReadonlyArray<string>): TE.TaskEither<StoreError, ReadonlyArray<unknown>> => {
    const first = keys[0] ?? ''
    const mGet = (ks: ReadonlyArray<string>) => attempt(() => client.mGet([...ks]))
    if (keys.length === 0) return TE.right([])
    if (across === undefined)
      return () => mGet(keys).then(E.right, (cause: unknown) => E.left(commandFailed('MGET', first, cause)))
    return () => {
      const indexed = keys.map((key, i) => ({ key, i }))
      const groups = bySlot(indexed, (k) => across.keyPrefix + k.key, 1000)
      return Promise.all(groups.map((g) => mGet(g.map((k) => k.key)))).then(
        (replies) => {
          const values = new Array<unknown>(keys.length).fill(null)
          groups.forEach((g, n) => g.forEach((k, j) => (values[k.i] = (replies[n] as ReadonlyArray<unknown>)[j])))
          return E.right(values)
        },
        (cause: unknown) => E.left(commandFailed('MGET', first, cause))
      )
    }
  }

  /** The owner's index, pruned, and each listed session read and checked: still there, still the owner's. */
  const read = (owner: string): TE.TaskEither<StoreError, Listing<A>> => {
    const problem = ownerProblem(owner)
    if (problem !== undefined) return TE.left(invalidId(problem))
    return () =>
      drop(owner, [])().then((reply) => {
        if (E.isLeft(reply)) return reply
        const flat = Array.isArray(reply.right) ? (reply.right as ReadonlyArray<unknown>) : []
        const listed: Array<{ readonly id: string; readonly expiresAt: number }> = []
        for (let i = 0; i + 1 < flat.length; i += 2)
          listed.push({ id: String(flat[i]), expiresAt: Number(flat[i + 1]) })
        const keys = listed.map((l) => prefix + l.id)
        return readValues(keys)().then(
          E.map((values) => {
            const owned: Array<OwnedSession<A>> = []
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
      sids.length + stale.length === 0 ? TE.right(n) : TE.as(n)(drop(owner, [...sids, ...stale]))
    )(tombstone(sids.map((sid) => prefix + sid)))

  const enforceCap = (owner: string, sid: string): TE.TaskEither<StoreError, number> =>
    TE.flatMap(({ owned, stale }: Listing<A>) => {
      const excess = owned.length - cap
      const victims = owned
        .filter((s) => s.id !== sid)
        .slice(0, Math.max(0, excess))
        .map((s) => s.id)
      return destroyListed(owner, victims, stale)
    })(read(owner))

  const set = makeSetReplying(
    oneSlot,
    (previous): { readonly outcome: SetOutcome; readonly previous: unknown } => ({ outcome: 'written', previous }),
    (outcome) => ({ outcome, previous: null })
  )

  return {
    set: (sid, sess) => () => {
      const owner = ownerOf(sess)
      if (E.isLeft(owner)) return Promise.resolve(owner)
      const ttl = ttlOf(sid, sess)
      const expiresAt = deps.now() + (E.isRight(ttl) ? ttl.right : 0)
      return set(sid, sess)().then((r) => {
        if (E.isLeft(r)) return r
        if (r.right.outcome !== 'written') return E.right(r.right.outcome)
        const before = r.right.previous === null ? undefined : ownerOfStored(sid, r.right.previous)
        const moved = before !== undefined && before !== owner.right ? drop(before, [sid]) : TE.right(undefined)
        const added = owner.right === undefined ? TE.right(0) : record(owner.right, sid, expiresAt)
        const capped = (count: number) =>
          cap > 0 && count > cap && owner.right !== undefined ? enforceCap(owner.right, sid) : TE.right(0)
        return Promise.all([added(), moved()]).then(([count, away]) => {
          if (E.isLeft(count)) return count
          if (E.isLeft(away)) return away
          return TE.as<SetOutcome>('written')(capped(count.right))()
        })
      })
    },
    touch: (sid, sess) => () => {
      const owner = ownerOf(sess)
      if (E.isLeft(owner)) return Promise.resolve(owner)
      const ttl = ttlOf(sid, sess)
      return deps
        .touch(sid, sess)()
        .then((renewed) => {
          if (E.isLeft(renewed) || !renewed.right || owner.right === undefined || E.isLeft(ttl)) return renewed
          return TE.as(true)(record(owner.right, sid, deps.now() + ttl.right))()
        })
    },
    sessionsOf: (owner) =>
      TE.flatMap(({ owned, stale }: Listing<A>) =>
        stale.length === 0 ? TE.right(owned) : TE.as(owned)(drop(owner, stale))
      )(read(owner)),
    destroySessionsOf: (owner, options = {}) =>
      TE.flatMap(({ owned, stale }: Listing<A>) =>
        destroyListed(
          owner,
          owned.filter((s) => s.id !== options.except).map((s) => s.id),
          stale
        )
      )(read(owner))
  }
}
