// Type tests of what an application writes: compiled by `npm test`, never run.
import type { Request } from 'express'
import { createClient } from 'redis'
import { createRedisStore, RedisStore, saveSession, SessionStoreError, type SessionStoreErrorCode } from '../../src'

const store = createRedisStore(createClient())

export const expiry = async (): Promise<number | undefined> => {
  const s = await store.access.get('sid')
  return s?.cookie.expires?.getTime() // a Date at runtime too (spec/express/first-hour.spec.ts)
}

export const handle = (err: unknown): SessionStoreErrorCode | undefined => {
  if (err instanceof SessionStoreError) {
    // @ts-expect-error code is the union of the store's codes, not any string
    if (err.code === 'ESESSION_NOPE') return undefined
    return err.code
  }
  return undefined
}

export const login = async (req: Request): Promise<void> => {
  await saveSession(req)
}

// @ts-expect-error RedisStore takes an options object, not the client
export const wrongOrder = new RedisStore(createClient())
// @ts-expect-error connect-redis's disableTTL: true is refused (only false is accepted)
export const noTtl = createRedisStore(createClient(), { disableTTL: true })
export const roleTtl = createRedisStore(createClient(), {
  prefix: 'sess:',
  ttl: (s) => (s.cookie.maxAge === undefined ? 60 : 3600)
})
