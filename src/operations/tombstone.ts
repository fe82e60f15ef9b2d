/**
 * Tombstones: what `destroy`, `clear`, an expired `set` and the owner index leave where a session was, a hash
 * `{ destroyedAt }` that refuses every write to that session for `concurrencyGraceSeconds`. The type it is about is
 * the tombstoning function, `(keys) => TaskEither<StoreError, number>`, and `TombstoneDeps`, what it is built from.
 *
 * @since 0.1.0
 */
import type { IO } from 'fp-ts/lib/IO'
import * as TE from 'fp-ts/lib/TaskEither'
import * as E from 'fp-ts/lib/Either'
import { MonoidSum } from 'fp-ts/lib/number'
import { concatAll } from 'fp-ts/lib/Monoid'
import { attempt, isNotLocalKey, isUndeclaredKey, runScript, unexpectedReply, type Script } from '../client/run'
import type { RedisLike, ScriptArgs } from '../client/contract'
import { bySlot } from '../client/slot'
import { commandFailed, notReplicated, type StoreError } from '../errors'
import { NODE_TOMBSTONE_SCRIPT, TOMBSTONE_ONE_SCRIPT, TOMBSTONE_SCRIPT } from '../scripts'

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
  /**
   * Set on a Redis Cluster, where the keys of one call are those of one master's `SCAN` page: of one node, but of
   * many hash slots. One script call still does the whole batch (keys passed as arguments, `keyPrefix` — the
   * client's own, which it adds to script keys only — put before each). Should a key no longer live on that node
   * (its slot moved since the `SCAN`), Redis refuses the call before it writes anything, and the batch is done
   * again one slot at a time, each call routed by the client (which follows `MOVED` and `ASK`). A server that
   * refuses a script's undeclared keys (`isUndeclaredKey`: Dragonfly, kvrocks in strict mode) refuses it before it
   * runs too: that batch and every later one go slot by slot, each call declaring its keys.
   *
   * With `acrossNodes`, the keys of one call may live on any node (the sessions of one owner): they go one call
   * per slot at once, without the attempt on one node.
   */
  readonly acrossSlots?: { readonly keyPrefix: string; readonly acrossNodes?: boolean }
}

/** The sum of counts, or the first failure. */
const total = E.map(concatAll(MonoidSum))

/** The script's reply, a count; anything else is a failure, never a NaN passed on as a number. */
const countOf =
  (key: string) =>
  (reply: unknown): E.Either<StoreError, number> => {
    // Only a number or a numeric string is read as one: Number() of any object may throw ({ toString: false }).
    const n = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : NaN
    return Number.isInteger(n) && n >= 0 ? E.right(n) : E.left(unexpectedReply('EVALSHA', key, reply, 'a count'))
  }

/**
 * Atomically replaces each of the given keys (full store keys) by a tombstone: a hash `{ destroyedAt }` that
 * expires after the grace period and makes `set` and `touch` of that session write nothing. One script call
 * for the whole batch. Resolves to the number of live sessions removed.
 *
 * All keys of one call must live on one Redis node: one key, or one cluster slot — or, with `acrossSlots`, the
 * keys of one cluster master.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeTombstone = (deps: TombstoneDeps) => {
  const graceMs = String(Math.round(deps.concurrencyGraceSeconds * 1000))
  const exact = deps.countLiveOnly === false ? '0' : '1'
  const confirm = deps.confirm
  // One script call, then WAIT on the node that ran it (scripts cannot call WAIT themselves).
  const once = (script: Script, layout: (keys: ReadonlyArray<string>, now: string) => ScriptArgs) => {
    const run = runScript(deps.client, script)
    return (keys: ReadonlyArray<string>): TE.TaskEither<StoreError, number> => {
      const first = keys[0] ?? ''
      const call = run(layout(keys, String(deps.now())))
      const counted = () => call().then((r) => (E.isLeft(r) ? r : countOf(first)(r.right)))
      if (confirm === undefined) return counted
      // WAIT replies a count of replicas; anything else is a reply of the wrong shape.
      const judged = (n: number, acknowledged: unknown): E.Either<StoreError, number> => {
        if (typeof acknowledged !== 'number' || !Number.isInteger(acknowledged))
          return E.left(unexpectedReply('WAIT', first, acknowledged, 'a count of replicas'))
        return acknowledged >= confirm.replicas
          ? E.right(n)
          : E.left(notReplicated(first, acknowledged, confirm.replicas, confirm.timeoutMs))
      }
      const confirmed = (n: number): Promise<E.Either<StoreError, number>> =>
        attempt(() => confirm.wait(first, confirm.replicas, confirm.timeoutMs)).then(
          (acknowledged: unknown) => judged(n, acknowledged),
          (cause: unknown) => E.left(commandFailed('WAIT', first, cause))
        )
      return () => counted().then((n) => (E.isLeft(n) ? n : confirmed(n.right)))
    }
  }
  const oneSlot = once(TOMBSTONE_SCRIPT, (keys, now) => ({ keys: [...keys], arguments: [graceMs, now, exact] }))
  const across = deps.acrossSlots
  if (across === undefined) {
    // One key counted live-only (destroy, an expired set): the same commands in a straight line.
    const oneKey =
      exact === '1'
        ? once(TOMBSTONE_ONE_SCRIPT, (keys, now) => ({ keys: [keys[0] ?? ''], arguments: [graceMs, now] }))
        : oneSlot
    return (keys: ReadonlyArray<string>) =>
      keys.length === 1 ? oneKey(keys) : keys.length === 0 ? TE.right(0) : oneSlot(keys)
  }
  const oneNode = once(NODE_TOMBSTONE_SCRIPT, (keys, now) => ({
    keys: [keys[0] ?? ''],
    arguments: [graceMs, now, exact, ...keys.map((k) => across.keyPrefix + k)]
  }))
  // Slot by slot, all at once: each call goes to the node that serves its slot now.
  const slotBySlot =
    (keys: ReadonlyArray<string>): TE.TaskEither<StoreError, number> =>
    () =>
      Promise.all(bySlot(keys, (k) => across.keyPrefix + k, keys.length).map((group) => oneSlot(group)())).then(
        (counts) => total(E.sequenceArray(counts))
      )
  // Set once the server refused the node script's undeclared keys: every batch goes slot by slot from then on.
  let declaredOnly = across.acrossNodes === true
  const refused = (r: E.Either<StoreError, number>): boolean => {
    if (E.isRight(r) || r.left._tag !== 'CommandFailed') return false
    if (isUndeclaredKey(r.left.cause)) declaredOnly = true
    return declaredOnly || isNotLocalKey(r.left.cause)
  }
  return (keys: ReadonlyArray<string>): TE.TaskEither<StoreError, number> => {
    if (keys.length === 0) return TE.right(0)
    if (declaredOnly) return slotBySlot(keys)
    const node = oneNode(keys)
    const slots = slotBySlot([...keys])
    return () => node().then((r) => (refused(r) ? slots() : r))
  }
}
