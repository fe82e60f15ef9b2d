/**
 * The `failWhenDisconnected` feature (`whenDisconnected: 'fail'`): while the client reports it is not connected,
 * each single-key operation of the record fails at once with `Unavailable` and sends nothing. The type it is about is
 * `Feature`, a decorator of the operations record.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { Connection } from '../client/contract'
import { unavailable } from '../errors'
import { aroundSingleKey, type Feature } from './model'

/**
 * The feature: `get`, `set`, `touch`, `destroy`, express-session's pair (named `get` and `touch`) and the owner
 * index's two fail with `Unavailable` while `client.connection.isReady()` is `false`, instead of waiting in the
 * client's queue. The connection is looked at when the task runs, not when it is built. The batched operations are
 * left to the client.
 *
 * @category features
 * @since 0.1.0
 */
export const failWhenDisconnected = (deps: {
  readonly client: { readonly connection: Pick<Connection, 'isReady'> }
}): Feature => {
  const connection = deps.client.connection
  return aroundSingleKey((operation) => {
    const down = E.left(
      unavailable(
        operation,
        'the Redis client is not connected (it is reconnecting, or was never connected); whenDisconnected is fail'
      )
    )
    return (te) => () => connection.isReady() ? te() : Promise.resolve(down)
  })
}
