/**
 * What only the dependencies of an operation see, gathered for the decorators that report on it (`withTracing`,
 * `withLifecycle`): the bytes read and written, a tombstone met by a read, the first write of an id. An operation
 * is run in an observation (`observing`), an `AsyncLocalStorage` scope holding one `Facts`; the dependencies
 * (`observeDeps`: the client's `GET`, `GETEX` and `SET … GET`, the serializer) add to the facts of the
 * observation they run in, and to none outside one. Nothing is observed unless a decorator asks: the scope is
 * entered only then, and outside it each of these dependencies costs one `getStore()`.
 *
 * @since 0.1.0
 */
import { AsyncLocalStorage } from 'async_hooks'
import type * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import type { RedisLike } from '../client/contract'
import { isWrongType } from '../client/run'
import type { StoreError } from '../errors'
import type { StoreOperationsDeps } from './model'

// --- model

/**
 * What the dependencies of one operation saw. Bytes are UTF-8 bytes of stored values: read (parsed) and written
 * (serialized).
 *
 * @internal
 */
export interface Facts {
  bytesRead: number
  bytesWritten: number
  /** A `GET` or `GETEX` met a tombstone (`WRONGTYPE`). */
  tombstoned: boolean
  /** A `SET … GET` found no value before it: the first write of the id. */
  created: boolean
  /** A corrupt stored value was met (`reportCorrupt`). */
  corrupt: boolean
}

const scope = new AsyncLocalStorage<Facts>()

// --- combinators

/**
 * `task` run in an observation, resolving to its result and the facts gathered meanwhile. Inside an observation
 * already (a decorator within another), the facts are that observation's.
 *
 * @internal
 */
export const observing =
  <A>(task: TE.TaskEither<StoreError, A>): (() => Promise<readonly [E.Either<StoreError, A>, Facts]>) =>
  () => {
    const outer = scope.getStore()
    const facts = outer ?? newFacts()
    const run = outer === undefined ? scope.run(facts, task) : task()
    return run.then((result) => [result, facts] as const)
  }

/**
 * Facts with nothing seen yet.
 *
 * @internal
 */
export const newFacts = (): Facts => ({
  bytesRead: 0,
  bytesWritten: 0,
  tombstoned: false,
  created: false,
  corrupt: false
})

/**
 * The pages of `pages` (`iterate`), each asked for in an observation of `facts`.
 *
 * @internal
 */
export async function* observingPages<P>(pages: AsyncIterable<P>, facts: Facts): AsyncGenerator<P, void> {
  const iterator = pages[Symbol.asyncIterator]()
  let ended = false
  try {
    for (;;) {
      const next = await scope.run(facts, () => iterator.next())
      if (next.done === true) {
        ended = true
        return
      }
      yield next.value
    }
  } finally {
    if (!ended) await iterator.return?.()
  }
}

const bytesOf = (s: string): number => Buffer.byteLength(s, 'utf8')

/** `reply`, and what it tells of the observation it runs in (if any). */
const noting = <A>(reply: Promise<A>, onValue: (facts: Facts, value: A) => void): Promise<A> => {
  const facts = scope.getStore()
  if (facts === undefined) return reply
  return reply.then(
    (value) => {
      onValue(facts, value)
      return value
    },
    (cause: unknown) => {
      if (isWrongType(cause)) facts.tombstoned = true
      throw cause
    }
  )
}

const noValue = (): void => undefined

/**
 * The dependencies of the operations with the client's `get`, `getEx` and `set` and the serializer reporting to
 * the observation they run in. Everything else is passed on as it is.
 *
 * @internal
 */
export const observeDeps = (deps: StoreOperationsDeps): StoreOperationsDeps => {
  const { client, serializer, reportCorrupt } = deps
  const observed: Pick<RedisLike, 'get' | 'getEx' | 'set'> = {
    get: (key) => noting(client.get(key), noValue),
    getEx: (key, options) => noting(client.getEx(key, options), noValue),
    set: (key, value, options) =>
      noting(client.set(key, value, options), (facts, previous) => {
        if (previous === null) facts.created = true
      })
  }
  return {
    ...deps,
    client: { ...client, ...observed },
    serializer: {
      ...serializer,
      parse: (raw, context) => {
        const facts = scope.getStore()
        if (facts !== undefined) facts.bytesRead += bytesOf(raw)
        return serializer.parse(raw, context)
      },
      stringify: (value, context) => {
        const text = serializer.stringify(value, context)
        const facts = scope.getStore()
        if (facts !== undefined && text._tag === 'Right' && typeof text.right === 'string')
          facts.bytesWritten += bytesOf(text.right)
        return text
      }
    },
    reportCorrupt: (e: StoreError) => {
      const facts = scope.getStore()
      if (facts !== undefined) facts.corrupt = true
      reportCorrupt?.(e)
    }
  }
}
