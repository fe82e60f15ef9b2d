/**
 * Encryption at rest: a serializer that seals what another serializer writes with AES-256-GCM.
 *
 * @since 0.1.0
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'crypto'
import * as E from 'fp-ts/lib/Either'
import type { SessionData } from 'express-session'
import { serializerFailed } from '../errors'
import { jsonSerializer } from './json'
import { unparsable, type ParseIssue, type Serializer, type SerializerContext } from './serializer'

// --- model

/**
 * A named AES-256 key: `key` is 32 bytes, as a `Buffer`/`Uint8Array` or a base64 (or base64url) string.
 * `id` is written in clear next to every value it encrypts (letters, digits, `_` and `-`, at most 32).
 *
 * @category model
 * @since 0.1.0
 */
export interface EncryptionKey {
  readonly id: string
  readonly key: Uint8Array | string
}

/**
 * Options of `encryptedSerializer`. The first key encrypts every write; every listed key decrypts.
 *
 * @category model
 * @since 0.1.0
 */
export interface EncryptionOptions {
  readonly keys: ReadonlyArray<EncryptionKey>
  /** What is encrypted: the session as this serializer writes it (default `jsonSerializer`). */
  readonly inner?: Serializer<SessionData>
  /**
   * Read values that are not in the encrypted format with `inner` as they are (default `false`): only for
   * the migration of a store that held plaintext sessions. Writes are always encrypted.
   */
  readonly acceptPlaintext?: boolean
}

const ALGORITHM = 'aes-256-gcm'
const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/

// --- key validation

const keyBytes = (key: unknown): Uint8Array | string => {
  if (key instanceof Uint8Array) return key
  if (typeof key !== 'string') return `must be a Buffer, a Uint8Array or a base64 string (got ${typeof key})`
  if (!BASE64.test(key)) return 'is a string but not base64'
  return Buffer.from(key, key.includes('-') || key.includes('_') ? 'base64url' : 'base64')
}

/** The keys by id, or the first problem found, as a message. */
const checkKeys = (keys: unknown): ReadonlyArray<readonly [string, KeyObject]> | string => {
  if (!Array.isArray(keys) || keys.length === 0) return 'keys must be a non-empty array of { id, key }'
  const seen = new Set<string>()
  const out: Array<readonly [string, KeyObject]> = []
  for (const [i, entry] of (keys as ReadonlyArray<Partial<EncryptionKey> | null | undefined>).entries()) {
    const id = entry?.id
    if (typeof id !== 'string' || !KEY_ID.test(id))
      return `keys[${i}].id must be 1 to 32 letters, digits, "_" or "-" (it is written before a ".", got ${JSON.stringify(
        id
      )})`
    if (seen.has(id)) return `keys[${i}].id ${JSON.stringify(id)} is listed twice`
    seen.add(id)
    const bytes = keyBytes(entry?.key)
    if (typeof bytes === 'string') return `keys[${i}].key (id ${JSON.stringify(id)}) ${bytes}`
    if (bytes.length !== KEY_BYTES)
      return `keys[${i}].key (id ${JSON.stringify(id)}) must be ${KEY_BYTES} bytes for AES-256 (got ${bytes.length})`
    out.push([id, createSecretKey(bytes)])
  }
  return out
}

// --- parse

/** An encrypted value that cannot be read: `Unparsable`, its message naming what was wrong. */
const unreadable = (message: string): E.Either<ParseIssue, never> => unparsable(`encrypted value: ${message}`)

const NO_SID = 'needs the session id as its second argument ({ sid }): the store passes it'

/** The plaintext of `raw`, or why it is not readable; no part of the plaintext is ever put in an error. */
const open = (
  keys: ReadonlyMap<string, KeyObject>,
  raw: string,
  sid: string
): E.Either<ParseIssue, string> | undefined => {
  const parts = raw.split('.')
  if (parts.length !== 4 || parts[0] !== VERSION) return undefined
  const [, id, ivText, dataText] = parts as [string, string, string, string]
  const key = keys.get(id)
  if (key === undefined) return unreadable(`unknown key id ${JSON.stringify(id)}`)
  if (!BASE64URL.test(ivText) || !BASE64URL.test(dataText)) return unreadable('not base64url')
  const iv = Buffer.from(ivText, 'base64url')
  const data = Buffer.from(dataText, 'base64url')
  if (iv.length !== IV_BYTES || data.length < TAG_BYTES) return unreadable('truncated')
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.from(sid, 'utf8'))
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES))
    const head = decipher.update(data.subarray(0, data.length - TAG_BYTES))
    const tail = decipher.final()
    return E.right(Buffer.concat([head, tail]).toString('utf8'))
  } catch {
    return unreadable('authentication failed (altered, written for another session id, or another key)')
  }
}

// --- constructor

/**
 * Encryption at rest. Wraps a serializer (`jsonSerializer` by default, or `codecSerializer(codec)` to validate
 * the decrypted session) so that every value written to Redis is sealed with AES-256-GCM (`node:crypto`): a
 * random 96-bit IV per write, the session id as additional authenticated data, stored as
 * `v1.<keyId>.<base64url IV>.<base64url ciphertext and 16-byte tag>`.
 *
 * The first key encrypts, every listed key decrypts: to rotate, put the new key first and keep the old one
 * listed until the sessions it sealed have expired. A value that does not authenticate (altered, copied
 * under another session id, sealed with a key not listed) or is not in the format is corrupt: the store
 * emits `corrupt` and answers a miss (or fails, per `onCorrupt`). Keys are checked here: a bad list is a
 * `TypeError` naming the problem. Adds no Redis command and no round trip.
 *
 * @example
 * import { randomBytes } from 'crypto'
 * import type { SessionData } from 'express-session'
 * import * as E from 'fp-ts/Either'
 * import * as t from 'io-ts'
 * import { createClient } from 'redis'
 * import { codecSerializer, createRedisStore, encryptedSerializer } from 'connect-redis-session'
 *
 * const k1 = randomBytes(32) // in production: from your secret manager, e.g. Buffer.from(process.env.KEY, 'base64')
 * const serializer = encryptedSerializer({ keys: [{ id: 'k1', key: k1 }] })
 * createRedisStore(createClient(), { serializer })
 *
 * const session = { cookie: { originalMaxAge: null, expires: null }, user: 'alice' } as SessionData
 * const sealed = serializer.stringify(session, { sid: 'abc' })
 * assert.ok(E.isRight(sealed) && sealed.right.startsWith('v1.k1.') && !sealed.right.includes('alice'))
 * if (E.isRight(sealed)) {
 *   assert.deepStrictEqual(serializer.parse(sealed.right, { sid: 'abc' }), E.right(session))
 *   // The same value under another session id does not decrypt: it is corrupt.
 *   assert.ok(E.isLeft(serializer.parse(sealed.right, { sid: 'other' })))
 *
 *   // Rotation: k2 encrypts from now on, k1 still decrypts what it sealed.
 *   const rotated = encryptedSerializer({ keys: [{ id: 'k2', key: randomBytes(32) }, { id: 'k1', key: k1 }] })
 *   assert.deepStrictEqual(rotated.parse(sealed.right, { sid: 'abc' }), E.right(session))
 *   const resealed = rotated.stringify(session, { sid: 'abc' })
 *   assert.ok(E.isRight(resealed) && resealed.right.startsWith('v1.k2.'))
 * }
 *
 * // With io-ts validation of the decrypted session:
 * const Stored = t.type({ cookie: t.type({ expires: t.union([t.string, t.null]) }), user: t.string })
 * encryptedSerializer({ keys: [{ id: 'k1', key: k1 }], inner: codecSerializer(Stored) })
 *
 * assert.throws(() => encryptedSerializer({ keys: [{ id: 'k1', key: randomBytes(16) }] }), /must be 32 bytes/)
 *
 * @category serializers
 * @since 0.1.0
 */
export const encryptedSerializer = (options: EncryptionOptions): Serializer<SessionData> => {
  const checked = checkKeys(options?.keys)
  if (typeof checked === 'string') throw new TypeError(`encryptedSerializer: ${checked}`)
  const inner = options.inner ?? jsonSerializer
  if (inner?._tag !== 'Serializer')
    throw new TypeError(
      'encryptedSerializer: inner must be a serializer such as jsonSerializer or codecSerializer(codec)'
    )
  const acceptPlaintext = options.acceptPlaintext === true
  const keys = new Map(checked)
  const [id, key] = checked[0] as readonly [string, KeyObject]
  const prefix = `${VERSION}.${id}.`
  return {
    _tag: 'Serializer',
    stringify: (value: SessionData, context?: SerializerContext) => {
      if (context === undefined) return E.left(serializerFailed('stringify', NO_SID))
      const text = inner.stringify(value, context)
      if (E.isLeft(text)) return text
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(Buffer.from(context.sid, 'utf8'))
      const sealed = Buffer.concat([cipher.update(text.right, 'utf8'), cipher.final(), cipher.getAuthTag()])
      return E.right(`${prefix}${iv.toString('base64url')}.${sealed.toString('base64url')}`)
    },
    parse: (raw: string, context?: SerializerContext) => {
      if (context === undefined) return E.left({ _tag: 'Broken', reason: NO_SID })
      const plain = open(keys, raw, context.sid)
      if (plain === undefined)
        return acceptPlaintext
          ? inner.parse(raw, context)
          : unreadable('not in the format v1.<keyId>.<iv>.<data> (a plaintext value? see acceptPlaintext)')
      return E.isLeft(plain) ? plain : inner.parse(plain.right, context)
    }
  }
}
