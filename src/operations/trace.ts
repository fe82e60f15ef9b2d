/**
 * Tracing: every operation of a store is one traced call on the `diagnostics_channel` TracingChannel
 * `connect-redis-session:operation` (`OPERATION_CHANNEL`), whose context tells what it was and how it ended
 * (`OperationContext`): the operation, a redacted session id, the outcome (`hit`, `miss`, `tombstoned`,
 * `written`, `conflict`, …), the bytes read or written, the number of sessions of batched work. A context holds
 * no session value, and no whole id: a subscriber may log it as it is.
 *
 * With no subscriber an operation is not traced at all: the decorator checks the channel's `hasSubscribers` and
 * runs the operation as it is. See docs/observability.md.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import type * as TE from 'fp-ts/lib/TaskEither'
import { tracingChannel } from 'diagnostics_channel'
import { defect, type StoreError } from '../errors'
import { codeOf, type SessionStoreErrorCode } from '../error-codes'
import { overBoth, type Feature, type SetOutcome, type StoreOperations } from './model'
import { newFacts, observing, observingPages, type Facts } from './observe'

// --- model

/**
 * The name of the TracingChannel every store publishes its operations on.
 *
 * @example
 * import diagnostics_channel from 'node:diagnostics_channel'
 * import { OPERATION_CHANNEL, type OperationContext } from 'connect-redis-session'
 *
 * const hits = { hit: 0, miss: 0 }
 * diagnostics_channel.tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL).subscribe({
 *   start() {},
 *   end() {},
 *   asyncStart() {},
 *   asyncEnd(context) {
 *     if (context.outcome === 'hit' || context.outcome === 'miss') hits[context.outcome] += 1
 *   },
 *   error() {}
 * })
 *
 * @category tracing
 * @since 0.1.0
 */
export const OPERATION_CHANNEL = 'connect-redis-session:operation'

/**
 * The operations a store traces, named as in `store.access` (express-session's `get` and `touch` are `get` and
 * `touch`).
 *
 * @category tracing
 * @since 0.1.0
 */
export type OperationName =
  | 'get'
  | 'set'
  | 'touch'
  | 'destroy'
  | 'all'
  | 'ids'
  | 'length'
  | 'clear'
  | 'iterate'
  | 'sessionsOf'
  | 'destroySessionsOf'

/**
 * How a traced operation ended.
 *
 * - `get`: `hit`, `miss` (no key), `tombstoned` (the session was destroyed), `corrupt` (a stored value that does
 *   not parse; a miss or a failure per `onCorrupt`).
 * - `set`: what it did (`SetOutcome`: `written`, `tombstoned`, `expired`, `changed`, `ended`), or `conflict`
 *   (`ESESSION_CONFLICT`).
 * - `touch`: `touched`, `miss`, `tombstoned`. `destroy`: `destroyed` (a live session), `miss`.
 * - the batched operations and the owner index: `done`, with `keys`.
 * - any operation: `error`, with `error` (its `code`).
 *
 * @category tracing
 * @since 0.1.0
 */
export type OperationOutcome =
  | 'hit'
  | 'miss'
  | 'tombstoned'
  | 'corrupt'
  | SetOutcome
  | 'conflict'
  | 'touched'
  | 'destroyed'
  | 'done'
  | 'error'

/**
 * The failure of a traced operation: its stable `code` (as the store's errors have) and a message that names the
 * operation only. The store's own error (with its cause) goes to the caller, not here: a cause may quote a stored
 * value (a parser's message does).
 *
 * @category tracing
 * @since 0.1.0
 */
export interface OperationError extends Error {
  readonly code: SessionStoreErrorCode
}

/**
 * The context of one traced operation, the same object in each of its events (`start`, `end`, `asyncStart`,
 * `asyncEnd`, `error`). `outcome`, `bytes`, `keys`, `created` and `error` are set once it has ended (from
 * `asyncStart` on). A subscriber may add fields of its own (a span, a start time).
 *
 * @category tracing
 * @since 0.1.0
 */
export interface OperationContext {
  readonly operation: OperationName
  /** The session id, redacted: its first 4 characters and `…` (ids shorter than 16 characters: `…`). */
  readonly sid?: string
  readonly outcome?: OperationOutcome
  /** A `set` that was the first write of its id. */
  readonly created?: true
  /** UTF-8 bytes of stored values: read (`get`, `all`, `iterate`, `sessionsOf`) or written (`set`). */
  readonly bytes?: number
  /** How many sessions a batched operation (or the owner index) counted, returned or destroyed. */
  readonly keys?: number
  /** On failure (also published on `error`). */
  readonly error?: OperationError
  /** Set by the channel when the operation resolves: its `outcome`. */
  readonly result?: OperationOutcome
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
type Context = Mutable<OperationContext>

// --- the channel

const channel = tracingChannel<unknown, Context>(OPERATION_CHANNEL)

/** Whether anyone listens. `TracingChannel#hasSubscribers` is Node 20.13+; before it, each of its channels is asked. */
const traced: () => boolean =
  typeof (channel as { readonly hasSubscribers?: unknown }).hasSubscribers === 'boolean'
    ? () => channel.hasSubscribers
    : () =>
        channel.start.hasSubscribers ||
        channel.end.hasSubscribers ||
        channel.asyncStart.hasSubscribers ||
        channel.asyncEnd.hasSubscribers ||
        channel.error.hasSubscribers

/**
 * A session id as a trace shows it: its first 4 characters and `…`; `…` alone for an id shorter than 16
 * characters, of which 4 would be too large a part.
 *
 * @internal
 */
export const redactId = (sid: string): string => (sid.length >= 16 ? `${sid.slice(0, 4)}…` : '…')

const failureOf = (operation: OperationName, e: StoreError): OperationError => {
  const code = codeOf(e)
  return Object.assign(new Error(`session ${operation} failed: ${code}`), { code })
}

/** How an operation ended, from its value and the facts its dependencies saw. */
type Settle<A> = (context: Context, value: A, facts: Facts) => void

const outcomeOfFailure = (e: StoreError): OperationOutcome =>
  e._tag === 'Conflict' ? 'conflict' : e._tag === 'ParseFailed' || e._tag === 'DecodeFailed' ? 'corrupt' : 'error'

/** `task` as one traced call: the context settled from its result before the channel's `asyncStart`. */
const trace =
  <A>(context: Context, task: TE.TaskEither<StoreError, A>, settle: Settle<A>): TE.TaskEither<StoreError, A> =>
  () => {
    let result: E.Either<StoreError, A> | undefined
    const run = (): Promise<OperationOutcome | undefined> =>
      observing(task)().then(([r, facts]) => {
        result = r
        if (E.isRight(r)) {
          settle(context, r.right, facts)
          return context.outcome
        }
        context.outcome = outcomeOfFailure(r.left)
        throw failureOf(context.operation, r.left)
      })
    const done = (): E.Either<StoreError, A> => result ?? E.left(defect(new Error('the traced operation did not run')))
    return channel.tracePromise(run, context).then(done, done)
  }

const withSid = (operation: OperationName, sid: string): Context => ({ operation, sid: redactId(sid) })

// --- settling

const settleGet: Settle<O.Option<unknown>> = (context, value, facts) => {
  context.outcome = O.isSome(value) ? 'hit' : facts.corrupt ? 'corrupt' : facts.tombstoned ? 'tombstoned' : 'miss'
  context.bytes = facts.bytesRead
}

const settleSet: Settle<SetOutcome> = (context, outcome, facts) => {
  context.outcome = outcome
  context.bytes = facts.bytesWritten
  if (outcome === 'written' && facts.created) context.created = true
}

const settleTouch: Settle<boolean> = (context, touched, facts) => {
  context.outcome = touched ? 'touched' : facts.tombstoned ? 'tombstoned' : 'miss'
}

const settleDestroy: Settle<boolean> = (context, destroyed) => {
  context.outcome = destroyed ? 'destroyed' : 'miss'
}

const settleCount =
  <A>(count: (a: A) => number): Settle<A> =>
  (context, value, facts) => {
    context.outcome = 'done'
    context.keys = count(value)
    if (facts.bytesRead > 0) context.bytes = facts.bytesRead
  }

const settleNumber = settleCount((n: number) => n)
const settleList = settleCount((list: ReadonlyArray<unknown>) => list.length)
const settleRecord = settleCount((record: Readonly<Record<string, unknown>>) => Object.keys(record).length)

/** `iterate` as one traced call: from the first page asked for to the last (or a failure, or the caller stopping). */
const traceIterate = (iterate: StoreOperations['iterate']): StoreOperations['iterate'] =>
  async function* () {
    const context: Context = { operation: 'iterate' }
    const facts = newFacts()
    let keys = 0
    let failure: StoreError | undefined
    channel.traceSync(() => undefined, context)
    try {
      for await (const page of observingPages(iterate(), facts)) {
        if (E.isLeft(page)) failure = page.left
        else keys += page.right.length
        yield page
      }
    } finally {
      context.keys = keys
      context.bytes = facts.bytesRead
      if (failure === undefined) context.outcome = 'done'
      else {
        context.outcome = outcomeOfFailure(failure)
        context.error = failureOf('iterate', failure)
        channel.error.publish(context)
      }
      context.result = context.outcome
      channel.asyncStart.publish(context)
      channel.asyncEnd.publish(context)
    }
  }

// --- feature

/**
 * The tracing feature: each operation of the record, when the channel `OPERATION_CHANNEL` has a subscriber, run as
 * one traced call (`tracePromise`) whose context says how it ended (`OperationContext`); otherwise the operation as
 * it is. express-session's `sessionGet`/`sessionTouch` are traced as `get`/`touch`. `makeStoreOperations` applies it
 * last, so a trace covers every feature (the deadline included: a timed-out operation ends `error`, `ETIMEDOUT`).
 *
 * @example
 * import diagnostics_channel from 'node:diagnostics_channel'
 * import * as E from 'fp-ts/Either'
 * import { OPERATION_CHANNEL, type OperationContext } from 'connect-redis-session'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 * import { makeStoreOperations, resolveOptions } from 'connect-redis-session/operations'
 *
 * const seen: Array<string> = []
 * const channel = diagnostics_channel.tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
 * const subscriber = {
 *   start() {},
 *   end() {},
 *   asyncStart() {},
 *   asyncEnd: (context: OperationContext) => void seen.push(`${context.operation} ${context.outcome}`),
 *   error() {}
 * }
 * channel.subscribe(subscriber)
 * const options = resolveOptions({})
 * assert.ok(E.isRight(options))
 * const ops = makeStoreOperations({ ...options.right, client: createMemoryClient() })
 *
 * async function main() {
 *   await ops.get('a-session-id-of-32-characters-xx')()
 *   assert.deepStrictEqual(seen, ['get miss'])
 *   channel.unsubscribe(subscriber)
 * }
 * main()
 *
 * @category features
 * @since 0.1.0
 */
export const withTracing: Feature = (ops) => {
  const get =
    (f: StoreOperations['get']): StoreOperations['get'] =>
    (sid) =>
      traced() ? trace(withSid('get', sid), f(sid), settleGet) : f(sid)
  const touch =
    (f: StoreOperations['touch']): StoreOperations['touch'] =>
    (sid, session, bound) =>
      traced() ? trace(withSid('touch', sid), f(sid, session, bound), settleTouch) : f(sid, session, bound)
  const iterate = traceIterate(ops.iterate)
  const [tracedGet, tracedSessionGet] = overBoth(get, ops.get, ops.sessionGet)
  const [tracedTouch, tracedSessionTouch] = overBoth(touch, ops.touch, ops.sessionTouch)
  const batched =
    <A>(operation: OperationName, f: () => TE.TaskEither<StoreError, A>, settle: Settle<A>) =>
    (): TE.TaskEither<StoreError, A> =>
      traced() ? trace({ operation }, f(), settle) : f()
  return {
    get: tracedGet,
    set: (sid, session, bound, condition) =>
      traced()
        ? trace(withSid('set', sid), ops.set(sid, session, bound, condition), settleSet)
        : ops.set(sid, session, bound, condition),
    touch: tracedTouch,
    destroy: (sid) => (traced() ? trace(withSid('destroy', sid), ops.destroy(sid), settleDestroy) : ops.destroy(sid)),
    all: batched('all', ops.all, settleRecord),
    ids: batched('ids', ops.ids, settleList),
    length: batched('length', ops.length, settleNumber),
    clear: batched('clear', ops.clear, settleNumber),
    iterate: () => (traced() ? iterate() : ops.iterate()),
    sessionGet: tracedSessionGet,
    sessionTouch: tracedSessionTouch,
    sessionsOf: (owner) =>
      traced() ? trace({ operation: 'sessionsOf' }, ops.sessionsOf(owner), settleList) : ops.sessionsOf(owner),
    destroySessionsOf: (owner, options) =>
      traced()
        ? trace({ operation: 'destroySessionsOf' }, ops.destroySessionsOf(owner, options), settleNumber)
        : ops.destroySessionsOf(owner, options)
  }
}
