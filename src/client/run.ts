/**
 * Running commands as `TaskEither`s: the one place where a client's promise becomes an `Either`, where
 * Redis's `WRONGTYPE` means "a tombstone", and where `NOSCRIPT` falls back to `EVAL`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { commandFailed, type StoreError } from '../errors'
import { messageOf } from '../refinements'
import type { RedisLike, ScriptArgs } from './contract'

// --- model

/**
 * A Lua script with its SHA1, computed once.
 *
 * @category model
 * @since 0.1.0
 */
export interface Script {
  readonly source: string
  readonly sha1: string
}

// --- interop

/**
 * Runs one client call as a `TaskEither`; a rejection becomes `CommandFailed` naming the command and key.
 *
 * @category interop
 * @since 0.1.0
 */
export const tryCommand =
  <A>(command: string, key: string, call: () => Promise<A>): TE.TaskEither<StoreError, A> =>
  () =>
    attempt(call).then(E.right, (cause: unknown) => E.left(commandFailed(command, key, cause)))

/**
 * What a reply looks like, for an error message: its type and, for a short one, its value.
 */
const describeReply = (reply: unknown): string => {
  if (reply === null || reply === undefined) return String(reply)
  if (Array.isArray(reply)) return `an array of ${reply.length}`
  if (Buffer.isBuffer(reply)) return `a Buffer of ${reply.length} bytes`
  if (typeof reply === 'object') return 'an object'
  const text = String(reply)
  return `${typeof reply} ${text.length > 40 ? text.slice(0, 40) + '…' : text}`
}

/**
 * A reply of the wrong shape (a number where a string or `null` was due, a non-array where a list was): a
 * `CommandFailed` naming the command and key, its cause a `TypeError` that says what came back. Never thrown.
 *
 * @internal
 */
export const unexpectedReply = (command: string, key: string, reply: unknown, expected: string): StoreError =>
  commandFailed(command, key, new TypeError(`unexpected reply to ${command}: ${describeReply(reply)}, not ${expected}`))

/**
 * Whether a reply is a string or `null`: what `GET`, `SET … GET`, `GETEX` and `GETDEL` answer.
 *
 * @internal
 */
export const isStringOrNull = (reply: unknown): reply is string | null => reply === null || typeof reply === 'string'

/**
 * Whether an `MGET` reply (or a batch read script's) is what it should be: `count` values, each a string or `null`.
 *
 * @internal
 */
export const isValues = (reply: unknown, count: number): reply is ReadonlyArray<string | null> =>
  Array.isArray(reply) && reply.length === count && reply.every((v) => v === null || typeof v === 'string')

/**
 * Whether a `SCAN` reply has the shape of the contract: a string cursor and an array of string keys.
 *
 * @internal
 */
export const isScanReply = (
  reply: unknown
): reply is { readonly cursor: string; readonly keys: ReadonlyArray<string> } => {
  if (typeof reply !== 'object' || reply === null) return false
  const { cursor, keys } = reply as { readonly cursor?: unknown; readonly keys?: unknown }
  return typeof cursor === 'string' && Array.isArray(keys) && keys.every((k) => typeof k === 'string')
}

/**
 * What to make of a string command's outcome: its reply, or Redis's `WRONGTYPE` answer (the key holds a
 * tombstone).
 *
 * @category model
 * @since 0.1.0
 */
export interface StringReplyHandlers<A, B> {
  readonly onReply: (reply: A) => E.Either<StoreError, B>
  readonly onTombstone: () => E.Either<StoreError, B>
}

/**
 * Runs one command on a session key that Redis refuses with `WRONGTYPE` when the key is a tombstone (a hash):
 * `GET`, `SET … GET`, `GETEX`, `GETDEL`. Their reply is a string or `null`; it goes to `onReply`, and any other
 * shape is a `CommandFailed` (`unexpectedReply`). A `WRONGTYPE` answer goes to `onTombstone`, and any other failure
 * becomes `CommandFailed`. One promise step: this is the hot path.
 *
 * @category interop
 * @since 0.1.0
 */
export const tryStringCommand =
  <B>(
    command: string,
    key: string,
    call: () => Promise<unknown>,
    handlers: StringReplyHandlers<string | null, B>
  ): TE.TaskEither<StoreError, B> =>
  () =>
    attempt(call).then(
      (reply) =>
        isStringOrNull(reply)
          ? handlers.onReply(reply)
          : E.left(unexpectedReply(command, key, reply, 'a string or null')),
      (cause: unknown) => (isWrongType(cause) ? handlers.onTombstone() : E.left(commandFailed(command, key, cause)))
    )

/**
 * `tryCommand`, with the reply checked for its shape: one that fails `is` is a `CommandFailed` saying what came
 * back (`expected` names what should have).
 *
 * @internal
 */
export const tryChecked =
  <A>(
    command: string,
    key: string,
    call: () => Promise<unknown>,
    is: (reply: unknown) => reply is A,
    expected: string
  ): TE.TaskEither<StoreError, A> =>
  () =>
    attempt(call).then(
      (reply) => (is(reply) ? E.right(reply) : E.left(unexpectedReply(command, key, reply, expected))),
      (cause: unknown) => E.left(commandFailed(command, key, cause))
    )

/**
 * Calls `call`, turning a synchronous throw into a rejection.
 *
 * @internal
 */
export const attempt = <A>(call: () => Promise<A>): Promise<A> => {
  try {
    return call()
  } catch (e) {
    return Promise.reject(e)
  }
}

const isNoScript = (e: unknown): boolean => messageOf(e).startsWith('NOSCRIPT')

/**
 * Whether a command failed because its key holds another type: for the string commands of the toolkit, the
 * key is a tombstone.
 *
 * @internal
 */
export const isWrongType = (e: unknown): boolean => messageOf(e).startsWith('WRONGTYPE')

/**
 * Whether a script failed because it touched a key that the node it ran on does not serve (in a cluster, the
 * key's slot lives elsewhere): Redis refuses the command before it runs. Redis 7 says "Script attempted to access
 * a non local key", 6.2 "Lua script attempted to access a non local key".
 *
 * @internal
 */
export const isNotLocalKey = (e: unknown): boolean => /non local key/.test(messageOf(e))

/**
 * Whether a server refused a script because it touched a key the call did not declare in `KEYS`: Dragonfly by
 * default ("script tried accessing undeclared key"), kvrocks with `lua-strict-key-accessing`. Redis and Valkey
 * run such a script; the cluster node scripts (`NODE_MGET_SCRIPT`, `NODE_TOMBSTONE_SCRIPT`) are the only ones that
 * need it, and go slot by slot with every key declared on a server that refuses.
 *
 * @internal
 */
export const isUndeclaredKey = (e: unknown): boolean => /undeclared key|not declared/i.test(messageOf(e))

/**
 * Runs a script in one round trip: `EVALSHA`, and only when the server answers `NOSCRIPT` (a fresh server,
 * `SCRIPT FLUSH`, a failover) a second call with `EVAL`, which also loads the script for next time.
 *
 * @category interop
 * @since 0.1.0
 */
export const runScript = (client: Pick<RedisLike, 'evalSha' | 'eval'>, script: Script) => {
  const viaEval = (key: string, args: ScriptArgs) => tryCommand('EVAL', key, () => client.eval(script.source, args))
  return (args: ScriptArgs): TE.TaskEither<StoreError, unknown> =>
    () => {
      const key = args.keys[0] ?? ''
      return attempt(() => client.evalSha(script.sha1, args)).then(E.right, (cause: unknown) =>
        isNoScript(cause) ? viaEval(key, args)() : E.left(commandFailed('EVALSHA', key, cause))
      )
    }
}
