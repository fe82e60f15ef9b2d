/**
 * The smallest client the toolkit needs. node-redis v4, v5 and v6 clients fit it as they are; a fake for a
 * unit test is a handful of functions over a `Map`.
 *
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
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
  readonly TYPE: string
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
export const tryCommand = <A>(command: string, key: string, call: () => Promise<A>): TE.TaskEither<StoreError, A> =>
  TE.tryCatch(() => Promise.resolve().then(call), commandFailed(command, key))

/**
 * Runs a script in one round trip: `EVALSHA`, and only when the server answers `NOSCRIPT` (a fresh server,
 * `SCRIPT FLUSH`, a failover) a second call with `EVAL`, which also loads the script for next time.
 *
 * @category interop
 * @since 0.1.0
 */
export const runScript =
  (client: Pick<RedisLike, 'evalSha' | 'eval'>, script: Script) =>
  (args: ScriptArgs): TE.TaskEither<StoreError, unknown> =>
    pipe(
      tryCommand('EVALSHA', args.keys[0] ?? '', () => client.evalSha(script.sha1, args)),
      TE.orElse((e) =>
        e._tag === 'CommandFailed' && errorMessage(e.cause).startsWith('NOSCRIPT')
          ? tryCommand('EVAL', args.keys[0] ?? '', () => client.eval(script.source, args))
          : TE.left(e)
      )
    )

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
