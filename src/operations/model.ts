/**
 * The model of the operations: `StoreOperations`, the record of every operation of a store, and `Feature`, a
 * decorator of that record. A store is `baseOperations` with the features that are on applied in order
 * (`makeStoreOperations`); a custom store decorates the record the same way. Also the types the operation modules
 * share: what a `set` did (`SetOutcome`), one session of an owner (`OwnedSession`), and the dependencies of the
 * whole record (`StoreOperationsDeps`).
 *
 * @since 0.1.0
 */
import type * as E from 'fp-ts/lib/Either'
import type * as O from 'fp-ts/lib/Option'
import type * as TE from 'fp-ts/lib/TaskEither'
import type { SessionData } from 'express-session'
import type { SessionClient } from '../client/contract'
import type { StoreError } from '../errors'
import type { ResolvedOptions } from '../options'
import type { ExpiryBound } from '../ttl'
import type { SaveBases } from './concurrent-saves'
import type { LifecycleListeners } from './lifecycle'

// --- model

/**
 * What a `set` did: wrote the session, refused it because the session was destroyed (a tombstone), or
 * destroyed it because its cookie had already expired. A save conditional on the stored value (`SetCondition`)
 * may also write nothing because the key holds another value (`'changed'`: someone else saved meanwhile) or no
 * session at all (`'ended'`: it expired, or was destroyed and its tombstone is gone, while the request ran).
 *
 * @category model
 * @since 0.1.0
 */
export type SetOutcome = 'written' | 'tombstoned' | 'expired' | 'changed' | 'ended'

/**
 * The condition of a save (`concurrentSaves`): write only if the key still holds `ifStored`, the exact value the
 * request loaded (the stored bytes: ciphertext with encryption). One script, one round trip.
 *
 * @category model
 * @since 0.1.0
 */
export interface SetCondition {
  readonly ifStored: string
}

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
 * Every operation of a store, as `TaskEither`s (run one by calling it). `get`/`set`/`touch`/`destroy` are the
 * single-key operations for direct use (`store.access`); `sessionGet`/`sessionTouch` are the pair
 * express-session calls (with lazy touch and `disableTouch` applied). `set` and `touch` take an optional bound on
 * the key's expiry (`ExpiryBound`): the key never outlives `notAfter`; `set` also takes a condition on the stored
 * value (`SetCondition`), which every feature passes on.
 *
 * @category model
 * @since 0.1.0
 */
export interface StoreOperations {
  readonly get: (sid: string) => TE.TaskEither<StoreError, O.Option<SessionData>>
  readonly set: (
    sid: string,
    session: SessionData,
    bound?: ExpiryBound,
    condition?: SetCondition
  ) => TE.TaskEither<StoreError, SetOutcome>
  readonly touch: (sid: string, session: SessionData, bound?: ExpiryBound) => TE.TaskEither<StoreError, boolean>
  readonly destroy: (sid: string) => TE.TaskEither<StoreError, boolean>
  readonly all: () => TE.TaskEither<StoreError, Record<string, SessionData>>
  readonly ids: () => TE.TaskEither<StoreError, ReadonlyArray<string>>
  readonly length: () => TE.TaskEither<StoreError, number>
  readonly clear: () => TE.TaskEither<StoreError, number>
  /** Batches of `[sid, session]`, page by page; a failure is yielded and ends the walk. */
  readonly iterate: () => AsyncIterable<E.Either<StoreError, ReadonlyArray<readonly [string, SessionData]>>>
  /** express-session's `get`: `get`, or, with `touchAfterSeconds`, a read of the key's TTL too for `sessionTouch`. */
  readonly sessionGet: (sid: string) => TE.TaskEither<StoreError, O.Option<SessionData>>
  /** express-session's `touch`: `touch`, lazy with `touchAfterSeconds`, nothing with `disableTouch`. */
  readonly sessionTouch: (sid: string, session: SessionData, bound?: ExpiryBound) => TE.TaskEither<StoreError, boolean>
  /** The live sessions of one owner (with `ownerOf`; without it, a `NotConfigured`). */
  readonly sessionsOf: (owner: string) => TE.TaskEither<StoreError, ReadonlyArray<OwnedSession<SessionData>>>
  /** Destroys every session of one owner but `except`; resolves to how many were live (with `ownerOf`). */
  readonly destroySessionsOf: (
    owner: string,
    options?: { readonly except?: string }
  ) => TE.TaskEither<StoreError, number>
}

/**
 * A feature of the store: a decorator of the operations record, which replaces some entries by ones built over
 * them (or beside them) and keeps the rest. Each is built from its dependencies (`withDeadline(deps)`,
 * `withOwnerIndex(deps)`, …) and composed with `pipe`; a feature that is off is left out, and costs nothing.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import * as TE from 'fp-ts/TaskEither'
 * import { pipe } from 'fp-ts/function'
 * import { baseOperations, resolveOptions, withDeadline, type Feature } from 'connect-redis-session/operations'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 *
 * // A feature of one's own: destroy is refused for one id.
 * const keepAdmin: Feature = (ops) => ({
 *   ...ops,
 *   destroy: (sid) => (sid === 'admin' ? TE.right(false) : ops.destroy(sid))
 * })
 * const options = resolveOptions({})
 * assert.ok(E.isRight(options))
 * const deps = { ...options.right, client: createMemoryClient() }
 * const ops = pipe(baseOperations(deps), keepAdmin, withDeadline(deps))
 *
 * async function main() {
 *   assert.deepStrictEqual(await ops.destroy('admin')(), E.right(false))
 * }
 * main()
 *
 * @category model
 * @since 0.1.0
 */
export type Feature = (ops: StoreOperations) => StoreOperations

/**
 * What the whole record is built from: the resolved options and the client.
 *
 * @category model
 * @since 0.1.0
 */
export interface StoreOperationsDeps extends ResolvedOptions {
  readonly client: SessionClient
  /** Told about every corrupt stored value met (the facade emits `corrupt`). */
  readonly reportCorrupt?: (e: StoreError) => void
  /** Where each session read is remembered with the value it was read from (the facade's, to carry it to copies). */
  readonly saveBases?: SaveBases
  /** Told about each session created and destroyed (the facade emits `created` and `destroyed`). */
  readonly lifecycle?: LifecycleListeners
}

// --- combinators

/**
 * `f` over an operation and its express-session twin (`get` and `sessionGet`, `touch` and `sessionTouch`), built
 * once when the two are one function: a record whose twins are one function keeps them one.
 *
 * @internal
 */
export const overBoth = <F>(f: (operation: F) => F, operation: F, twin: F): readonly [F, F] => {
  const decorated = f(operation)
  return [decorated, twin === operation ? decorated : f(twin)]
}

/**
 * A change to the task of an operation, given the operation's name (`'get'`, `'set'`, …).
 *
 * @internal
 */
export type AroundTask = (operation: string) => <A>(task: TE.TaskEither<StoreError, A>) => TE.TaskEither<StoreError, A>

/**
 * A feature that changes the task of every single-key operation (`get`, `set`, `touch`, `destroy`, express-session's
 * `sessionGet` and `sessionTouch`, named `get` and `touch`) and of the owner index's two; the batched operations are
 * left as they are. Each change is built once, when the feature is applied.
 *
 * @internal
 */
export const aroundSingleKey =
  (around: AroundTask): Feature =>
  (ops) => {
    const [get, set, touch, destroy, owned, destroyOwned] = [
      around('get'),
      around('set'),
      around('touch'),
      around('destroy'),
      around('sessionsOf'),
      around('destroySessionsOf')
    ] as const
    const [boundGet, boundSessionGet] = overBoth(
      (f: StoreOperations['get']): StoreOperations['get'] =>
        (sid) =>
          get(f(sid)),
      ops.get,
      ops.sessionGet
    )
    const [boundTouch, boundSessionTouch] = overBoth(
      (f: StoreOperations['touch']): StoreOperations['touch'] =>
        (sid, session, bound) =>
          touch(f(sid, session, bound)),
      ops.touch,
      ops.sessionTouch
    )
    return {
      ...ops,
      get: boundGet,
      set: (sid, session, bound, condition) => set(ops.set(sid, session, bound, condition)),
      touch: boundTouch,
      destroy: (sid) => destroy(ops.destroy(sid)),
      sessionGet: boundSessionGet,
      sessionTouch: boundSessionTouch,
      sessionsOf: (owner) => owned(ops.sessionsOf(owner)),
      destroySessionsOf: (owner, options) => destroyOwned(ops.destroySessionsOf(owner, options))
    }
  }
