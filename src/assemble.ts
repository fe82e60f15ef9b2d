/**
 * The assembly: a client and resolved options in, the complete `StoreOperations` record out — `baseOperations`
 * with the features that are on applied in order. The express-session facade only adapts this record; a custom
 * store starts from it, or from `baseOperations`, and applies features of its own.
 *
 * @since 0.1.0
 */
import { identity, pipe } from 'fp-ts/lib/function'
import { withAbsoluteLifetime } from './operations/absolute-lifetime'
import { makeSaveBases, rememberingBases, withConcurrentSaves } from './operations/concurrent-saves'
import { baseOperations } from './operations/base'
import { withDeadline, withPageDeadlines } from './operations/deadline'
import { disableTouch } from './operations/disable-touch'
import { failWhenDisconnected } from './operations/disconnected'
import { withLazyTouch } from './operations/lazy-touch'
import { withLifecycle } from './operations/lifecycle'
import { observeDeps } from './operations/observe'
import type { StoreOperations, StoreOperationsDeps } from './operations/model'
import { withOwnerIndex } from './operations/owners'
import { waitForReplicas } from './operations/replicas'
import { withTracing } from './operations/trace'

/**
 * Builds every operation of a store once: the base record, then each feature the options turn on, in this
 * order — the owner index (`ownerOf`), lazy touch (`touchAfterSeconds`), `disableTouch`, absolute lifetime
 * (`absoluteLifetimeSeconds`), concurrent saves (`concurrentSaves`; always on, for its unchanged-session check:
 * without a base it costs one `WeakMap` lookup per save), the disconnected guard (`whenDisconnected: 'fail'`) and the deadline
 * (`operationTimeoutMs`, which also gives each page of a batched walk a deadline, `withPageDeadlines`), the
 * lifecycle events (`lifecycle`: the store's `created` and `destroyed`) and tracing (`withTracing`, always: an
 * operation is traced only while the channel has a subscriber). A feature that is off is not applied. `waitReplicas` is a dependency of every tombstone
 * rather than a feature (see `waitForReplicas`).
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import { createClient } from 'redis'
 * import { fromNodeRedis } from 'connect-redis-session/client'
 * import { makeStoreOperations, resolveOptions } from 'connect-redis-session/operations'
 *
 * const options = resolveOptions({ prefix: 'myapp:', whenDisconnected: 'fail' })
 * assert.ok(E.isRight(options))
 * const ops = makeStoreOperations({ ...options.right, client: fromNodeRedis(createClient()) })
 *
 * async function main() {
 *   // The client was never connected: with whenDisconnected 'fail', get fails at once and sends nothing.
 *   const result = await ops.get('abc')()
 *   assert.ok(E.isLeft(result) && result.left._tag === 'Unavailable')
 * }
 * main()
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeStoreOperations = (options: StoreOperationsDeps): StoreOperations => {
  // The deadline of each page of a walk is given to the batched operations' dependencies; that of the single-key
  // operations is a decorator of the record (`withDeadline`, last).
  // Each session read is remembered with the value it was read from, for its save (`withConcurrentSaves`).
  const bases = options.saveBases ?? makeSaveBases()
  // What the client and the serializer see is told to the operation they run in, for its trace and its events
  // (`observeDeps`: nothing unless a trace or a listener asks).
  const observed = observeDeps(options)
  const deps = withPageDeadlines(
    waitForReplicas({ ...observed, serializer: rememberingBases(observed.serializer, bases) })
  )
  const ownerOf = deps.ownerOf
  const lazyTouch = deps.touchAfterSeconds > 0 && !deps.disableTouch
  return pipe(
    baseOperations(deps),
    ownerOf === undefined ? identity : withOwnerIndex({ ...deps, ownerOf }),
    lazyTouch ? withLazyTouch(deps) : identity,
    deps.disableTouch ? disableTouch : identity,
    deps.absoluteLifetimeSeconds > 0 ? withAbsoluteLifetime(deps) : identity,
    withConcurrentSaves({ concurrentSaves: deps.concurrentSaves, serializer: options.serializer, bases }),
    deps.whenDisconnected === 'fail' ? failWhenDisconnected(deps) : identity,
    deps.operationTimeoutMs > 0 ? withDeadline(deps) : identity,
    options.lifecycle === undefined ? identity : withLifecycle(options.lifecycle),
    withTracing
  )
}
