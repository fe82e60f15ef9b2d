/**
 * What the adapters of this package (`fromNodeRedis`, `fromNodeRedisCluster`, `fromIoRedis`,
 * `fromIoRedisCluster`) have in common: one adapter per client, a key prefix as a string, a `Connection` fed
 * by the client's events, `SCAN` replies as the contract's `ScanReply`, and `WAIT` as a number.
 *
 * @since 0.1.0
 * @internal
 */
import type { Connection, ScanArgs, ScanReply } from './contract'

// --- constructors

/**
 * `make` run once per client: the same client always gives the same adapter, so that every store built on
 * it shares one `Connection` and one set of listeners on the client.
 *
 * @internal
 */
export const oncePerClient = <C extends object, A>(make: (client: C) => A): ((client: C) => A) => {
  const made = new WeakMap<C, A>()
  return (client) => {
    const known = made.get(client)
    if (known !== undefined) return known
    const adapted = make(client)
    made.set(client, adapted)
    return adapted
  }
}

/**
 * A key prefix as a client keeps it (a string, or bytes for ioredis and node-redis v6) as a string; `''` for
 * none.
 *
 * @internal
 */
export const keyPrefixOf = (prefix: unknown): string =>
  typeof prefix === 'string' ? prefix : prefix instanceof Uint8Array ? Buffer.from(prefix).toString() : ''

/**
 * A client's events, as far as a `Connection` needs them (node-redis's and ioredis's `on`; absent on a
 * client that reports none).
 *
 * @internal
 */
export interface ConnectionEvents {
  readonly on?: (event: string, listener: (...args: ReadonlyArray<unknown>) => void) => unknown
}

/**
 * The `Connection` of a client: `isReady`/`isClosed` as given, and `onChange` fed by one listener per event
 * in `events` (the state each event means), added to the client once, whatever the number of stores.
 *
 * @internal
 */
export const connectionOf = (
  client: ConnectionEvents,
  events: ReadonlyArray<readonly [event: string, state: 'ready' | 'down']>,
  state: Pick<Connection, 'isReady' | 'isClosed'>
): Connection => {
  const listeners = new Set<(state: 'ready' | 'down') => void>()
  if (typeof client.on === 'function')
    for (const [event, s] of events) client.on(event, () => listeners.forEach((l) => l(s)))
  return {
    isReady: state.isReady,
    isClosed: state.isClosed,
    onChange: (listener) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    }
  }
}

// --- commands

/**
 * One `SCAN` reply as the contract's: the cursor as a string (node-redis v4 and ioredis may give a number),
 * the keys as strings (they may come back as buffers).
 *
 * @internal
 */
export const scanReplyOf = (cursor: string | number, keys: ReadonlyArray<string | Uint8Array>): ScanReply => ({
  cursor: String(cursor),
  keys: keys.map((k) => (typeof k === 'string' ? k : Buffer.from(k).toString()))
})

/**
 * The `scan` of a cluster client, which would walk one node only: refused (the store scans each master).
 *
 * @internal
 */
export const noScan = (_cursor: string, _options: ScanArgs): Promise<ScanReply> =>
  Promise.reject(new Error('SCAN on a cluster client walks one node: the store scans each master instead'))

/**
 * The words of one `WAIT`.
 *
 * @internal
 */
export type WaitCommand = [command: 'WAIT', replicas: string, timeoutMs: string]

/**
 * `WAIT replicas timeoutMs` through a raw command sender (given the key, so a cluster can pick the node that
 * owns it), its reply as a number.
 *
 * @internal
 */
export const waitVia =
  (send: (args: WaitCommand, key: string) => Promise<unknown>) =>
  (key: string, replicas: number, timeoutMs: number): Promise<number> =>
    send(['WAIT', String(replicas), String(Math.max(0, Math.round(timeoutMs)))], key).then(Number)
