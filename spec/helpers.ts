import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import * as assert from 'uvu/assert'

export const assertRight = <A>(result: E.Either<unknown, A>): A => {
  if (E.isLeft(result))
    assert.unreachable(
      `expected Right, got Left ${JSON.stringify(result.left, (_k, v) => (v instanceof Error ? v.message : v))}`
    )
  return (result as E.Right<A>).right
}

export const assertLeft = <L>(result: E.Either<L, unknown>): L => {
  if (E.isRight(result)) assert.unreachable(`expected Left, got Right ${JSON.stringify(result.right)}`)
  return (result as E.Left<L>).left
}

export const runRight = async <A>(te: TE.TaskEither<unknown, A>): Promise<A> => assertRight(await te())
export const runLeft = async <L>(te: TE.TaskEither<L, unknown>): Promise<L> => assertLeft(await te())

/** A JSON-shaped session (as stored), expiring `inMs` after `now`. */
export const storedSession = (now: number, inMs: number, extra: Record<string, unknown> = {}) => ({
  cookie: { originalMaxAge: inMs, expires: new Date(now + inMs).toISOString(), httpOnly: true, path: '/' },
  ...extra
})

/**
 * uvu drops an error thrown by a `before` hook without a word, so suites keep it and call this in
 * `before.each`: every test then fails with the set-up's error.
 */
export const rethrowSetupError = (err: unknown): void => {
  if (err === undefined) return
  throw err instanceof Error
    ? Object.assign(new Error(`set-up failed: ${err.message}`), { stack: `set-up failed: ${err.stack ?? err.message}` })
    : new Error(`set-up failed: ${String(err)}`)
}

/**
 * The warnings `process.emitWarning` is given while `f` runs (and for `settleMs` after), caught instead of printed:
 * a spec that checks a warning reaches the process leaves nothing on stderr that reads like a real problem. Each is
 * the `Error` Node would build (`name` its type, `code` its code).
 */
export const capturedProcessWarnings = async (f: () => unknown, settleMs = 20): Promise<Array<Error>> => {
  const seen: Array<Error> = []
  const original = process.emitWarning
  process.emitWarning = ((warning: string | Error, options?: { type?: string; code?: string } | string) => {
    const type = typeof options === 'string' ? options : options?.type
    const code = typeof options === 'object' ? options?.code : undefined
    const w = typeof warning === 'string' ? Object.assign(new Error(warning), { name: type ?? 'Warning' }) : warning
    seen.push(code === undefined ? w : Object.assign(w, { code }))
  }) as typeof process.emitWarning
  try {
    await f()
    await new Promise((r) => setTimeout(r, settleMs))
  } finally {
    process.emitWarning = original
  }
  return seen
}

/** A client that answers `INFO`. */
interface Info {
  info(section: string): Promise<string>
}

/** The calls of `command` (lower case) in an `INFO commandstats` text: 0 before the first call. */
const callsIn = (commandstats: string, command: string): number =>
  Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(commandstats)?.[1] ?? 0)

/** How many times Redis ran each of `commands` (lower case) while `run` ran: `INFO commandstats` before and after. */
export const callsDuring = async <C extends string>(
  client: Info,
  commands: ReadonlyArray<C>,
  run: () => Promise<unknown>
): Promise<Record<C, number>> => {
  const before = await client.info('commandstats')
  await run()
  const after = await client.info('commandstats')
  return Object.fromEntries(commands.map((c) => [c, callsIn(after, c) - callsIn(before, c)])) as Record<C, number>
}
