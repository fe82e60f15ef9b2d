/**
 * An in-memory fake of the commands in `RedisLike`, with the store's tombstone script emulated, a call log, a
 * clock, and ways to make a command fail. No Redis needed.
 */
import type { RedisLike, ScanArgs, ScriptArgs } from '../../src/client/contract'
import { GET_WITH_TTL_SCRIPT, TOMBSTONE_SCRIPT } from '../../src/scripts'

type Entry =
  | { readonly type: 'string'; readonly value: string; expiresAt?: number }
  | { readonly type: 'hash'; readonly fields: Record<string, string>; expiresAt?: number }

export type Call = readonly [string, ...ReadonlyArray<unknown>]

export interface FakeRedis extends RedisLike {
  readonly data: Map<string, Entry>
  readonly calls: Array<Call>
  /** Advances the fake clock (ms). */
  readonly advance: (ms: number) => void
  readonly now: () => number
  /** Makes every later call of `command` reject with `error`. */
  readonly failing: (command: string, error: Error) => void
  /** Forgets loaded scripts, as `SCRIPT FLUSH` does: the next EVALSHA answers NOSCRIPT. */
  readonly flushScripts: () => void
  /** Pages `scan` returns, to force duplicates or small pages: each call returns the next page. */
  scanPages?: ReadonlyArray<ReadonlyArray<string>>
  readonly pttl: (key: string) => number
}

const notInteger = () => new Error('ERR value is not an integer or out of range')

const wrongType = () => new Error('WRONGTYPE Operation against a key holding the wrong kind of value')

const globToRegExp = (glob: string): RegExp => {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === '\\') re += '\\' + (glob[++i] ?? '\\')
    else if (c === '*') re += '[\\s\\S]*'
    else if (c === '?') re += '[\\s\\S]'
    else if (c === '[') {
      const end = glob.indexOf(']', i)
      re += '[' + glob.slice(i + 1, end).replace(/\\/g, '\\\\') + ']'
      i = end
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp('^' + re + '$')
}

export const makeFakeRedis = (seed: Record<string, string> = {}, startMs = 1_700_000_000_000): FakeRedis => {
  let clock = startMs
  const data = new Map<string, Entry>(Object.entries(seed).map(([k, v]) => [k, { type: 'string', value: v }]))
  const calls: Array<Call> = []
  const failures = new Map<string, Error>()
  const loaded = new Set<string>([TOMBSTONE_SCRIPT.sha1, GET_WITH_TTL_SCRIPT.sha1])

  const live = (key: string): Entry | undefined => {
    const e = data.get(key)
    if (e?.expiresAt !== undefined && e.expiresAt <= clock) {
      data.delete(key)
      return undefined
    }
    return e
  }
  const record = (command: string, ...args: ReadonlyArray<unknown>): void => {
    calls.push([command, ...args])
    const f = failures.get(command)
    if (f !== undefined) throw f
  }
  const typeOf = (key: string): string => live(key)?.type ?? 'none'

  const scripts: Record<string, (a: ScriptArgs) => unknown> = {
    [GET_WITH_TTL_SCRIPT.sha1]: ({ keys: [key] }) => {
      const e = live(key as string)
      if (e === undefined) return [-2]
      if (e.type !== 'string') return [-3]
      return [e.expiresAt === undefined ? -1 : e.expiresAt - clock, e.value]
    },
    [TOMBSTONE_SCRIPT.sha1]: ({ keys, arguments: [grace, now, exact] }) => {
      let removed = 0
      for (const key of keys) {
        if (exact === '1' ? typeOf(key) === 'string' : typeOf(key) !== 'none') removed++
        data.delete(key)
        if (Number(grace) > 0)
          data.set(key, { type: 'hash', fields: { destroyedAt: now as string }, expiresAt: clock + Number(grace) })
      }
      return removed
    }
  }
  const bySource = new Map([TOMBSTONE_SCRIPT, GET_WITH_TTL_SCRIPT].map((s) => [s.source, s.sha1]))

  const fake: FakeRedis = {
    data,
    calls,
    advance: (ms) => {
      clock += ms
    },
    now: () => clock,
    failing: (command, error) => {
      failures.set(command, error)
    },
    flushScripts: () => loaded.clear(),
    pttl: (key) => {
      const e = live(key)
      return e === undefined ? -2 : e.expiresAt === undefined ? -1 : e.expiresAt - clock
    },
    get: async (key) => {
      record('GET', key)
      const e = live(key)
      if (e === undefined) return null
      if (e.type !== 'string') throw wrongType()
      return e.value
    },
    set: async (key, value, options) => {
      record('SET', key, value, options)
      if (!Number.isInteger(options.PX)) throw notInteger()
      const e = live(key)
      if (e !== undefined && e.type !== 'string') throw wrongType()
      data.set(key, { type: 'string', value, expiresAt: clock + options.PX })
      return e?.value ?? null
    },
    getEx: async (key, options) => {
      record('GETEX', key, options)
      if (!Number.isInteger(options.PX)) throw notInteger()
      const e = live(key)
      if (e === undefined) return null
      if (e.type !== 'string') throw wrongType()
      e.expiresAt = clock + options.PX
      return e.value
    },
    getDel: async (key) => {
      record('GETDEL', key)
      const e = live(key)
      if (e === undefined) return null
      if (e.type !== 'string') throw wrongType()
      data.delete(key)
      return e.value
    },
    mGet: async (keys) => {
      record('MGET', ...keys)
      return keys.map((k) => {
        const e = live(k)
        return e?.type === 'string' ? e.value : null
      })
    },
    evalSha: async (sha1, args) => {
      record('EVALSHA', sha1, args.keys, args.arguments)
      const run = scripts[sha1]
      if (run === undefined || !loaded.has(sha1)) throw new Error('NOSCRIPT No matching script. Please use EVAL.')
      return run(args)
    },
    eval: async (source, args) => {
      record('EVAL', source, args.keys, args.arguments)
      const sha1 = bySource.get(source)
      if (sha1 === undefined) throw new Error('ERR unknown script in fake')
      loaded.add(sha1)
      return (scripts[sha1] as (a: ScriptArgs) => unknown)(args)
    },
    scan: (async (cursor: string, options: ScanArgs) => {
      record('SCAN', cursor, options)
      const i = Number(cursor)
      if (fake.scanPages !== undefined) {
        const page = fake.scanPages[i] ?? []
        return { cursor: i + 1 >= fake.scanPages.length ? '0' : String(i + 1), keys: [...page] }
      }
      const match = globToRegExp(options.MATCH)
      const all = [...data.keys()].sort()
      const page = all.slice(i, i + options.COUNT)
      const next = i + options.COUNT >= all.length ? '0' : String(i + options.COUNT)
      return {
        cursor: next,
        keys: page.filter((k) => match.test(k) && (options.TYPE === undefined || typeOf(k) === options.TYPE))
      }
    }) as RedisLike['scan']
  }
  return fake
}
