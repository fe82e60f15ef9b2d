/**
 * The smallest client the toolkit needs. node-redis v4, v5 and v6 clients fit it as they are; a fake for a
 * unit test is a handful of functions over a `Map`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { commandFailed, type StoreError } from './errors'

// --- model

/**
 * Keys and arguments of a Lua script call (node-redis's `{ keys, arguments }` shape).
 *
 * @category model
 * @since 0.1.0
 */
export interface ScriptArgs {
  readonly keys: Array<string>
  readonly arguments: Array<string>
}

/**
 * `SCAN` options, node-redis spelling.
 *
 * @category model
 * @since 0.1.0
 */
export interface ScanArgs {
  readonly MATCH: string
  readonly COUNT: number
  readonly TYPE?: string
}

/**
 * A `SCAN` reply: node-redis v4 gives a numeric cursor, v5 and v6 a string one.
 *
 * @category model
 * @since 0.1.0
 */
export interface ScanReply {
  readonly cursor: string | number
  readonly keys: ReadonlyArray<string | Uint8Array>
}

/**
 * The commands the toolkit calls, as node-redis names them. Each operation asks only for the ones it uses
 * (`Pick<RedisLike, 'get'>`), so a fake client stays tiny.
 *
 * Keys passed to these functions are full store keys (`prefix + sid`). A node-redis v6 client created with a
 * `keyPrefix` adds its own prefix in front of them, and gives it back in `SCAN` replies: see `keyPrefix`.
 *
 * @category model
 * @since 0.1.0
 */
export interface RedisLike {
  readonly get: (key: string) => Promise<string | null>
  /** `SET key value PX ms GET`: Redis refuses it (WRONGTYPE) when the key is not a string, e.g. a tombstone. */
  readonly set: (key: string, value: string, options: { readonly PX: number; readonly GET: true }) => Promise<string | null | {}>
  /** `GETEX key PX ms`: renews a string's TTL; never creates a key; WRONGTYPE on a tombstone. */
  readonly getEx: (key: string, options: { readonly PX: number }) => Promise<string | null>
  /** `GETDEL key`: deletes a string; WRONGTYPE on a tombstone. */
  readonly getDel: (key: string) => Promise<string | null>
  readonly mGet: (keys: Array<string>) => Promise<ReadonlyArray<string | null>>
  readonly evalSha: (sha1: string, options: ScriptArgs) => Promise<unknown>
  readonly eval: (script: string, options: ScriptArgs) => Promise<unknown>
  readonly scan: (cursor: never, options: ScanArgs) => Promise<ScanReply>
}

/**
 * A Lua script with its SHA1, computed once.
 *
 * @category model
 * @since 0.1.0
 */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha1: string
}

// --- interop

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Runs one client call as a `TaskEither`; a rejection becomes `CommandFailed` naming the command and key.
 *
 * @category interop
 * @since 0.1.0
 */
export const tryCommand =
  <A>(command: string, key: string, call: () => Promise<A>): TE.TaskEither<StoreError, A> =>
  () =>
    attempt(call).then(E.right, (cause: unknown) => E.left(commandFailed(command, key)(cause)))

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
 * `GET`, `SET … GET`, `GETEX`, `GETDEL`. The reply goes to `onReply`, a `WRONGTYPE` answer to `onTombstone`,
 * and any other failure becomes `CommandFailed`. One promise step: this is the hot path.
 *
 * @category interop
 * @since 0.1.0
 */
export const tryStringCommand =
  <A, B>(command: string, key: string, call: () => Promise<A>, handlers: StringReplyHandlers<A, B>): TE.TaskEither<StoreError, B> =>
  () =>
    attempt(call).then(handlers.onReply, (cause: unknown) =>
      isWrongType(cause) ? handlers.onTombstone() : E.left(commandFailed(command, key)(cause))
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

const isNoScript = (e: unknown): boolean => errorMessage(e).startsWith('NOSCRIPT')

/**
 * Whether a command failed because its key holds another type: for the string commands of the toolkit, the
 * key is a tombstone.
 *
 * @internal
 */
export const isWrongType = (e: unknown): boolean => errorMessage(e).startsWith('WRONGTYPE')

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
        isNoScript(cause) ? viaEval(key, args)() : E.left(commandFailed('EVALSHA', key)(cause))
      )
    }
}

/**
 * Calls `SCAN` on any node-redis major: the cursor goes out as a string (v4 stringifies it too) and comes
 * back as a string.
 *
 * @internal
 */
export const scanStep = (client: Pick<RedisLike, 'scan'>, cursor: string, args: ScanArgs): Promise<{ readonly cursor: string; readonly keys: ReadonlyArray<string> }> =>
  (client.scan as (cursor: string, options: ScanArgs) => Promise<ScanReply>)(cursor, args).then((r) => ({
    cursor: String(r.cursor),
    keys: r.keys.map((k) => (typeof k === 'string' ? k : Buffer.from(k).toString()))
  }))

/**
 * The key prefix a node-redis v6 client adds to every key it sends (`createClient({ keyPrefix })`), or `''`.
 * `SCAN` does not add it to `MATCH` but returns keys with it, so batched operations must know it.
 *
 * @category interop
 * @since 0.1.0
 */
export const clientKeyPrefix = (client: object): string => {
  const fromGetter: unknown = (client as { readonly _keyPrefix?: unknown })._keyPrefix
  const fromOptions: unknown = (client as { readonly options?: { readonly keyPrefix?: unknown } }).options?.keyPrefix
  const prefix = fromGetter ?? fromOptions
  return typeof prefix === 'string' ? prefix : prefix instanceof Buffer ? prefix.toString() : ''
}
