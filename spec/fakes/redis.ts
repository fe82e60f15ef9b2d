/**
 * The shipped in-memory client (connect-redis-session/memory) with what only the specs need: a log of every
 * command sent, scripted `SCAN` pages (to force duplicates or small pages), and the store's scripts already
 * loaded (as on a server that has run them before), so a spec's first `EVALSHA` is its only call.
 */
import type { ScanArgs } from '../../src/client/contract'
import { createMemoryClient, type MemoryClient } from '../../src/memory'
import {
  GET_WITH_TTL_SCRIPT,
  NODE_MGET_SCRIPT,
  NODE_TOMBSTONE_SCRIPT,
  OWNER_ADD_SCRIPT,
  OWNER_LIST_SCRIPT,
  SET_IF_STORED_SCRIPT,
  TOMBSTONE_ONE_SCRIPT,
  TOMBSTONE_SCRIPT
} from '../../src/scripts'

export type Call = readonly [string, ...ReadonlyArray<unknown>]

export interface FakeRedis extends MemoryClient {
  /** `clock.now`; give it to a store (`now: fake.now`) whose sessions are built from this clock. */
  readonly now: () => number
  readonly calls: Array<Call>
  /** Pages `scan` returns, to force duplicates or small pages: each call returns the next page. */
  scanPages?: ReadonlyArray<ReadonlyArray<string>>
}

/** A fresh client at `startMs` (its clock moves only by `clock.advance`), holding `seed` as strings without TTL. */
export const makeFakeRedis = (seed: Record<string, string> = {}, startMs = 1_700_000_000_000): FakeRedis => {
  const client = createMemoryClient({ now: () => startMs })
  for (const [key, value] of Object.entries(seed)) client.keyspace.set(key, { type: 'string', value })
  for (const script of [
    TOMBSTONE_SCRIPT,
    TOMBSTONE_ONE_SCRIPT,
    GET_WITH_TTL_SCRIPT,
    NODE_TOMBSTONE_SCRIPT,
    NODE_MGET_SCRIPT,
    OWNER_ADD_SCRIPT,
    OWNER_LIST_SCRIPT,
    SET_IF_STORED_SCRIPT
  ])
    void client.eval(script.source, { keys: [], arguments: [] })
  const calls: Array<Call> = []
  const fake: FakeRedis = {
    ...client,
    now: client.clock.now,
    calls,
    get: (key) => (calls.push(['GET', key]), client.get(key)),
    set: (key, value, options) => (calls.push(['SET', key, value, options]), client.set(key, value, options)),
    getEx: (key, options) => (calls.push(['GETEX', key, options]), client.getEx(key, options)),
    getDel: (key) => (calls.push(['GETDEL', key]), client.getDel(key)),
    mGet: (keys) => (calls.push(['MGET', ...keys]), client.mGet(keys)),
    evalSha: (sha1, args) => (calls.push(['EVALSHA', sha1, args.keys, args.arguments]), client.evalSha(sha1, args)),
    eval: (source, args) => (calls.push(['EVAL', source, args.keys, args.arguments]), client.eval(source, args)),
    scan: (cursor: string, options: ScanArgs) => {
      calls.push(['SCAN', cursor, options])
      if (fake.scanPages === undefined) return client.scan(cursor, options)
      const i = Number(cursor)
      return Promise.resolve({
        cursor: i + 1 >= fake.scanPages.length ? '0' : String(i + 1),
        keys: [...(fake.scanPages[i] ?? [])]
      })
    }
  }
  return fake
}

/**
 * The same client shaped as a node-redis client (its command methods, no `SessionClient` tag or connection),
 * for specs of how the store recognizes and adapts node-redis clients.
 */
export const makeNodeRedisFake = (seed: Record<string, string> = {}, startMs?: number) => {
  const { _tag, connection: _c, keyPrefix: _k, waitReplicas: _w, ...nodeRedisShaped } = makeFakeRedis(seed, startMs)
  return nodeRedisShaped
}
