/**
 * Lifecycle events: a session `created` (the first write of its id) and `destroyed` (a logout, an owner's
 * sessions destroyed at once, a clear), told to listeners as the operations that did it end. The store emits them
 * as events (`store.on('created', …)`); `expired` comes from Redis itself (`expiredEvents`).
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import type { StoreError } from '../errors'
import type { Feature } from './model'
import { observing } from './observe'

// --- model

/**
 * A session that was created: the first write of its id (`SET … GET` found no value before it). In process, so the
 * whole id.
 *
 * @category model
 * @since 0.1.0
 */
export interface CreatedEvent {
  readonly sid: string
}

/**
 * A session Redis expired (with `expiredEvents`): its key's TTL ran out and Redis removed it; a tombstone ending is
 * not one. In process, so the whole id.
 *
 * @category model
 * @since 0.1.0
 */
export interface ExpiredEvent {
  readonly sid: string
}

/**
 * Sessions that were destroyed, each leaving a tombstone, and by what:
 *
 * - `destroy`: one session (a logout, `req.session.destroy()`, `store.destroy(sid)`), with its id; only when a live
 *   session was removed.
 * - `destroySessionsOf`: the sessions of one owner ("log out everywhere"), with the owner and how many were live;
 *   their ids are not listed (`sessionsOf` before lists them).
 * - `clear`: every session, with how many were removed; a clear walks the whole key space page by page and keeps
 *   no list of ids.
 *
 * Nothing is told when nothing was destroyed (a count of 0, a destroy of a session that was not live).
 *
 * @category model
 * @since 0.1.0
 */
export type DestroyedEvent =
  | { readonly reason: 'destroy'; readonly sid: string }
  | { readonly reason: 'destroySessionsOf'; readonly owner: string; readonly count: number }
  | { readonly reason: 'clear'; readonly count: number }

/**
 * Who is told: `created` and `destroyed` are called once per event. `listening(event)` tells whether anyone listens
 * for it, as each operation is asked for: only then is the operation followed (a save observed for `created`).
 *
 * @category model
 * @since 0.1.0
 */
export interface LifecycleListeners {
  readonly created: (event: CreatedEvent) => void
  readonly destroyed: (event: DestroyedEvent) => void
  readonly listening: (event: LifecycleEvent) => boolean
}

/**
 * The lifecycle events the operations tell.
 *
 * @category model
 * @since 0.1.0
 */
export type LifecycleEvent = 'created' | 'destroyed'

// --- feature

/** `task`, and `tell(value)` once it has succeeded. */
const after =
  <A>(task: TE.TaskEither<StoreError, A>, tell: (value: A) => void): TE.TaskEither<StoreError, A> =>
  () =>
    task().then((result) => {
      if (E.isRight(result)) tell(result.right)
      return result
    })

/**
 * The lifecycle feature: `set` tells `created` when it was the first write of the id; `destroy`,
 * `destroySessionsOf` and `clear` tell `destroyed` (see `DestroyedEvent`). Reads and `touch` are left as they are.
 * A listener that throws does not change the operation's result: its error is thrown again outside it (an
 * uncaught exception, as from any event listener).
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import { pipe } from 'fp-ts/function'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 * import { makeStoreOperations, resolveOptions, withLifecycle } from 'connect-redis-session/operations'
 *
 * const told: Array<string> = []
 * const options = resolveOptions({})
 * assert.ok(E.isRight(options))
 * const ops = pipe(
 *   makeStoreOperations({ ...options.right, client: createMemoryClient() }),
 *   withLifecycle({
 *     created: ({ sid }) => void told.push(`created ${sid}`),
 *     destroyed: (e) => void told.push(`destroyed by ${e.reason}`),
 *     listening: () => true
 *   })
 * )
 * const day = () => ({ cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000) } })
 *
 * async function main() {
 *   await ops.set('abc', day())()
 *   await ops.set('abc', day())() // not the first write
 *   await ops.destroy('abc')()
 *   assert.deepStrictEqual(told, ['created abc', 'destroyed by destroy'])
 * }
 * main()
 *
 * @category features
 * @since 0.1.0
 */
export const withLifecycle =
  (listeners: LifecycleListeners): Feature =>
  (ops) => {
    const tell =
      <A>(f: (a: A) => void) =>
      (a: A): void => {
        try {
          f(a)
        } catch (cause) {
          // The operation has succeeded: the listener's failure is thrown again outside it, as from any listener.
          queueMicrotask(() => {
            throw cause
          })
        }
      }
    const created = tell(listeners.created)
    const destroyed = tell(listeners.destroyed)
    // Asked as each operation is: with no listener, the operation's own task, and nothing made for it.
    const { listening } = listeners
    return {
      ...ops,
      set: (sid, session, bound, condition) => {
        const task = ops.set(sid, session, bound, condition)
        if (!listening('created')) return task
        return () =>
          observing(task)().then(([result, facts]) => {
            if (E.isRight(result) && result.right === 'written' && facts.created) created({ sid })
            return result
          })
      },
      destroy: (sid) => {
        const task = ops.destroy(sid)
        if (!listening('destroyed')) return task
        return after(task, (removed) => {
          if (removed) destroyed({ reason: 'destroy', sid })
        })
      },
      destroySessionsOf: (owner, options) => {
        const task = ops.destroySessionsOf(owner, options)
        if (!listening('destroyed')) return task
        return after(task, (count) => {
          if (count > 0) destroyed({ reason: 'destroySessionsOf', owner, count })
        })
      },
      clear: () => {
        const task = ops.clear()
        if (!listening('destroyed')) return task
        return after(task, (count) => {
          if (count > 0) destroyed({ reason: 'clear', count })
        })
      }
    }
  }
