/**
 * Shared pieces of the property specs: how many cases each property runs, a line per property in the test
 * output with the number of cases actually run, a real redis-server client, and JSON-shape helpers.
 */
import fc from 'fast-check'
import { createClient } from 'redis'
import type { RedisLike } from '../../src/client/contract'
import { startRedis, type RedisServer } from '../support/redis-server'

/** Cases per property in CI: at least 1000. `PROPERTY_RUNS=5000 npm test` runs more locally. */
export const NUM_RUNS = Math.max(1000, Number(process.env['PROPERTY_RUNS'] ?? 0) || 0)

/** `FC_SEED=<n>` replays a failing run (fast-check prints the seed and path on failure). */
const replay = (): Partial<fc.Parameters<unknown>> => {
  const seed = process.env['FC_SEED']
  const path = process.env['FC_PATH']
  return {
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path })
  }
}

/**
 * Runs an async property with `numRuns` cases (default `NUM_RUNS`), then prints how many cases ran and how
 * long they took, so CI output shows it.
 */
export const checkProperty = async <Ts extends [unknown, ...Array<unknown>]>(
  name: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => Promise<void>,
  numRuns: number = NUM_RUNS,
  extra: Partial<fc.Parameters<Ts>> = {}
): Promise<void> => {
  let cases = 0
  const started = Date.now()
  const property = fc.asyncProperty(...arbitraries, async (...args: Ts) => {
    cases++
    await predicate(...args)
  })
  await fc.assert(property as fc.IAsyncProperty<Ts>, { numRuns, ...(replay() as Partial<fc.Parameters<Ts>>), ...extra })
  console.log(
    `  [property] ${name}: ${cases} cases passed (numRuns ${numRuns}) in ${((Date.now() - started) / 1000).toFixed(
      2
    )} s`
  )
}

/** A node-redis v6 client as the store sees it, plus the raw commands the specs use. */
export interface RealClient extends RedisLike {
  connect(): Promise<unknown>
  sendCommand(args: Array<string>): Promise<unknown>
  close(): Promise<unknown>
}

export interface RealRedis {
  readonly server: RedisServer
  /** The client the store uses. */
  readonly client: RealClient
  /** A second connection for seeding, inspecting and simulating time. */
  readonly admin: RealClient
  readonly raw: (...args: Array<string>) => Promise<unknown>
  readonly stop: () => Promise<void>
}

/** One redis-server on loopback with two connections: the store's and an admin one. */
export const startRealRedis = async (): Promise<RealRedis> => {
  const server = await startRedis()
  const client = createClient({ url: server.url }) as unknown as RealClient
  const admin = createClient({ url: server.url }) as unknown as RealClient
  await Promise.all([client.connect(), admin.connect()])
  return {
    server,
    client,
    admin,
    raw: (...args) => admin.sendCommand(args),
    stop: async () => {
      await Promise.all([client.close(), admin.close()])
      await server.stop()
    }
  }
}

/** What JSON keeps of a value: `undefined` members dropped, `-0` as `0`, dates as strings. */
export const jsonShape = (x: unknown): unknown => JSON.parse(JSON.stringify(x))

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

/**
 * The documented prototype protection of the default and codec serializers, written independently of
 * src/serializer/json.ts: own `__proto__` keys are dropped everywhere, and so is `prototype` inside an own
 * `constructor` object. Everything else is kept as it is. Returns a fresh value; own `__proto__` keys of the
 * input are never assigned through the `__proto__` setter.
 */
export const withoutPrototypeKeys = (x: unknown): unknown => {
  if (Array.isArray(x)) return x.map(withoutPrototypeKeys)
  if (!isObject(x)) return x
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(x)) {
    if (k === '__proto__') continue
    let v = withoutPrototypeKeys(x[k])
    if (k === 'constructor' && isObject(v) && Object.prototype.hasOwnProperty.call(v, 'prototype')) {
      const { prototype: _dropped, ...rest } = v
      v = rest
    }
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** Every object reachable from `x` (own enumerable keys), `x` included. */
/**
 * The session the store hands back for a stored JSON value: the same, with `cookie.expires` an ISO string
 * revived as a `Date` (in place: pass a fresh value).
 */
export const asReadBack = <A>(x: A): A => {
  const cookie = isObject(x) ? x['cookie'] : undefined
  if (isObject(cookie) && typeof cookie['expires'] === 'string') cookie['expires'] = new Date(cookie['expires'])
  return x
}

export const objectsIn = (x: unknown): Array<object> => {
  const found: Array<object> = []
  const stack: Array<unknown> = [x]
  while (stack.length > 0) {
    const node = stack.pop()
    if (!isObject(node)) continue
    found.push(node)
    for (const k of Object.keys(node)) stack.push(Object.getOwnPropertyDescriptor(node, k)?.value)
  }
  return found
}

/** Whether a run replays one case (`FC_PATH`): then counts over the whole run mean nothing. */
export const replaying = (): boolean => process.env['FC_PATH'] !== undefined

/**
 * `JSON.stringify` for failure messages: own `__proto__` keys shown, and every character outside printable
 * ASCII as a `\uXXXX` escape, so that C1 controls, lone surrogates and look-alikes are visible.
 */
export const show = (x: unknown): string => {
  let text: string
  try {
    text =
      JSON.stringify(x, (_k, v: unknown) =>
        typeof v === 'bigint' ? `${v}n` : typeof v === 'symbol' ? v.toString() : v
      ) ?? String(x)
  } catch {
    text = String(x)
  }
  return text.replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}
