/**
 * @since 0.1.0
 */
import type { IO } from 'fp-ts/lib/IO'
import * as TE from 'fp-ts/lib/TaskEither'
import * as E from 'fp-ts/lib/Either'
import { attempt, runScript } from '../client/run'
import type { RedisLike } from '../client/contract'
import { commandFailed, notReplicated, type StoreError } from '../errors'
import { TOMBSTONE_SCRIPT } from '../scripts'

/**
 * @category model
 * @since 0.1.0
 */
export interface TombstoneDeps {
  readonly client: Pick<RedisLike, 'evalSha' | 'eval'>
  /** How long the tombstone refuses writes, in seconds; 0 only deletes. */
  readonly concurrencyGraceSeconds: number
  readonly now: IO<number>
  /**
   * Count only live sessions (a `TYPE` check per key, default), or every deleted key — enough when the keys
   * come from `SCAN … TYPE string`, and cheaper.
   */
  readonly countLiveOnly?: boolean
  /**
   * Wait until this many replicas hold the tombstones (`WAIT`, on the node that owns the keys) before
   * answering; fewer within `timeoutMs` is a `NotReplicated` failure. Off when absent.
   */
  readonly confirm?: {
    readonly replicas: number
    readonly timeoutMs: number
    readonly wait: (key: string, replicas: number, timeoutMs: number) => Promise<number>
  }
}

/** The script's reply, a count; anything else is a failure, never a NaN passed on as a number. */
const countOf =
  (key: string) =>
  (reply: unknown): E.Either<StoreError, number> => {
    const n = Number(reply)
    return Number.isInteger(n) && n >= 0
      ? E.right(n)
      : E.left(
          commandFailed('EVALSHA', key, new TypeError(`the tombstone script answered ${String(reply)}, not a count`))
        )
  }

/**
 * Atomically replaces each of the given keys (full store keys) by a tombstone: a hash `{ destroyedAt }` that
 * expires after the grace period and makes `set` and `touch` of that session write nothing. One script call
 * for the whole batch. Resolves to the number of live sessions removed.
 *
 * All keys of one call must live on one Redis node (one key, or one cluster slot).
 *
 * @category operations
 * @since 0.1.0
 */
export const makeTombstone = (deps: TombstoneDeps) => {
  const graceMs = String(Math.round(deps.concurrencyGraceSeconds * 1000))
  const exact = deps.countLiveOnly === false ? '0' : '1'
  const tombstone = runScript(deps.client, TOMBSTONE_SCRIPT)
  return (keys: ReadonlyArray<string>): TE.TaskEither<StoreError, number> => {
    if (keys.length === 0) return TE.right(0)
    const call = tombstone({ keys: [...keys], arguments: [graceMs, String(deps.now()), exact] })
    const first = keys[0] ?? ''
    const count = countOf(first)
    const confirm = deps.confirm
    if (confirm === undefined) return () => call().then(E.flatMap(count))
    // WAIT after the script, on the same node: scripts cannot call WAIT themselves.
    const confirmed = (n: number): Promise<E.Either<StoreError, number>> =>
      attempt(() => confirm.wait(first, confirm.replicas, confirm.timeoutMs)).then(
        (acknowledged) =>
          acknowledged >= confirm.replicas
            ? E.right(n)
            : E.left(notReplicated(first, acknowledged, confirm.replicas, confirm.timeoutMs)),
        (cause: unknown) => E.left(commandFailed('WAIT', first, cause))
      )
    return () =>
      call().then((r) => {
        const n = E.flatMap(count)(r)
        return E.isLeft(n) ? n : confirmed(n.right)
      })
  }
}
