import { randomBytes } from 'crypto'
import type { SessionData } from 'express-session'
import * as t from 'io-ts'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../../src/express/create-redis-store'
import { codecSerializer } from '../../src/serializer/codec'
import { encryptedSerializer, type EncryptionKey } from '../../src/serializer/encrypted'
import { jsonSerializer } from '../../src/serializer/json'
import { parseStored, type ParseIssue } from '../../src/serializer/serializer'
import { makeFakeRedis } from '../fakes/redis'
import { assertLeft, assertRight } from '../helpers'

const it = suite('encryptedSerializer')

const k1: EncryptionKey = { id: 'k1', key: randomBytes(32) }
const k2: EncryptionKey = { id: 'k2', key: randomBytes(32) }
const session = { cookie: { expires: null }, user: 'alice', secret: 'hunter2-correct-horse' } as unknown as SessionData
const sid = { sid: 'abc' }

/** The cause's message of an `Unparsable` issue. */
const causeOf = (issue: ParseIssue): string => {
  assert.is(issue._tag, 'Unparsable')
  return String((issue as { readonly cause: unknown }).cause)
}

it('round trip; the stored value is v1.<keyId>.<iv>.<data>, no plaintext, a fresh IV each time', () => {
  const s = encryptedSerializer({ keys: [k1] })
  const a = assertRight(s.stringify(session, sid))
  const b = assertRight(s.stringify(session, sid))
  assert.match(a, /^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
  assert.not.ok(a.includes('alice') || a.includes('hunter2'))
  assert.is.not(a, b, 'a random IV: the same session is sealed differently each time')
  assert.equal(assertRight(s.parse(a, sid)), session)
  assert.equal(assertRight(s.parse(b, sid)), session)
})

it('a tampered value is corrupt (Unparsable), whichever byte is changed', () => {
  const s = encryptedSerializer({ keys: [k1] })
  const value = assertRight(s.stringify(session, sid))
  const [v, id, iv, data] = value.split('.') as [string, string, string, string]
  const flip = (text: string, i: number) => text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1)
  for (const tampered of [
    [v, id, flip(iv, 3), data].join('.'),
    [v, id, iv, flip(data, 0)].join('.'),
    [v, id, iv, flip(data, data.length - 3)].join('.'), // the tag
    [v, id, iv, data.slice(0, -4)].join('.')
  ])
    assert.match(causeOf(assertLeft(s.parse(tampered, sid))), /authentication failed|truncated/)
})

it('a value copied under another session id does not decrypt: corrupt', () => {
  const s = encryptedSerializer({ keys: [k1] })
  const value = assertRight(s.stringify(session, { sid: 'victim' }))
  assert.match(causeOf(assertLeft(s.parse(value, { sid: 'attacker' }))), 'authentication failed')
  assert.equal(assertRight(s.parse(value, { sid: 'victim' })), session)
})

it('rotation: the first key encrypts, every listed key decrypts; a dropped key makes its values corrupt', () => {
  const before = encryptedSerializer({ keys: [k1] })
  const old = assertRight(before.stringify(session, sid))
  const rotated = encryptedSerializer({ keys: [k2, k1] })
  assert.equal(assertRight(rotated.parse(old, sid)), session, 'values sealed with k1 are still read')
  const fresh = assertRight(rotated.stringify(session, sid))
  assert.ok(fresh.startsWith('v1.k2.'), 'new writes use the newest key')
  const after = encryptedSerializer({ keys: [k2] })
  assert.equal(assertRight(after.parse(fresh, sid)), session)
  assert.match(causeOf(assertLeft(after.parse(old, sid))), 'unknown key id "k1"')
  // The same id with other key material: authentication fails.
  const impostor = encryptedSerializer({ keys: [{ id: 'k1', key: randomBytes(32) }] })
  assert.match(causeOf(assertLeft(impostor.parse(old, sid))), 'authentication failed')
})

it('a value not in the format is corrupt, and so is plaintext JSON unless acceptPlaintext', () => {
  const s = encryptedSerializer({ keys: [k1] })
  const json = assertRight(jsonSerializer.stringify(session))
  for (const raw of [json, '', 'v1', 'v1.k1.a', 'v2.k1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA', 'v1.k1.a.b.c'])
    assert.match(causeOf(assertLeft(s.parse(raw, sid))), 'not in the format', raw)
  assert.match(causeOf(assertLeft(s.parse('v1.k1.AAAA!AAAA.AAAA', sid))), 'not base64url')
  assert.match(causeOf(assertLeft(s.parse('v1.k1.AAAA.AAAAAAAAAAAAAAAAAAAAAA', sid))), 'truncated')
  const migrating = encryptedSerializer({ keys: [k1], acceptPlaintext: true })
  assert.equal(assertRight(migrating.parse(json, sid)), session, 'acceptPlaintext reads the old plaintext')
  assert.ok(assertRight(migrating.stringify(session, sid)).startsWith('v1.k1.'), 'and still writes encrypted')
  assert.match(causeOf(assertLeft(migrating.parse('v1.k9.AAAA.AAAA', sid))), 'unknown key id')
})

it('no error carries the plaintext', () => {
  const s = encryptedSerializer({ keys: [k1] })
  const value = assertRight(encryptedSerializer({ keys: [{ id: 'k1', key: randomBytes(32) }] }).stringify(session, sid))
  const issue = assertLeft(s.parse(value, sid))
  assert.not.ok(JSON.stringify(issue, (_k, v: unknown) => (v instanceof Error ? v.message : v)).includes('hunter2'))
})

it('composes with io-ts: a decrypted session the codec rejects is Invalid', () => {
  const Stored = t.type({ cookie: t.type({ expires: t.union([t.string, t.null]) }), user: t.string })
  const s = encryptedSerializer({ keys: [k1], inner: codecSerializer(Stored) })
  assert.equal(assertRight(s.parse(assertRight(s.stringify(session, sid)), sid)), session)
  const invalid = { cookie: { expires: null }, user: 42 } as unknown as SessionData
  const sealed = assertRight(encryptedSerializer({ keys: [k1] }).stringify(invalid, sid))
  assert.is(assertLeft(s.parse(sealed, sid))._tag, 'Invalid')
})

it('without the session id, parse and stringify fail as a misuse (not as corrupt data)', () => {
  const s = encryptedSerializer({ keys: [k1] })
  assert.is(assertLeft(s.parse('v1.k1.a.b'))._tag, 'Broken')
  assert.equal(assertLeft(s.stringify(session)), {
    _tag: 'SerializerFailed',
    method: 'stringify',
    reason: 'needs the session id as its second argument ({ sid }): the store passes it'
  })
})

it('keys are validated at construction: a TypeError naming the problem', () => {
  const bad: ReadonlyArray<readonly [unknown, RegExp]> = [
    [[], /non-empty array/],
    [undefined, /non-empty array/],
    [[{ id: 'a.b', key: randomBytes(32) }], /keys\[0\]\.id must be 1 to 32 letters/],
    [[{ id: '', key: randomBytes(32) }], /keys\[0\]\.id/],
    [[k1, { id: 'k1', key: randomBytes(32) }], /keys\[1\]\.id "k1" is listed twice/],
    [[{ id: 'k1', key: randomBytes(16) }], /must be 32 bytes for AES-256 \(got 16\)/],
    [[{ id: 'k1', key: 'correct horse battery staple' }], /not base64/],
    [[{ id: 'k1', key: randomBytes(32).toString('hex') }], /must be 32 bytes for AES-256 \(got 48\)/],
    [[{ id: 'k1', key: 42 }], /must be a Buffer, a Uint8Array or a base64 string \(got number\)/]
  ]
  for (const [keys, message] of bad)
    assert.throws(
      () => encryptedSerializer({ keys } as never),
      (e: unknown) => e instanceof TypeError && message.test(e.message),
      String(message)
    )
  assert.throws(() => encryptedSerializer({ keys: [k1], inner: JSON } as never), /inner must be a serializer/)
})

it('a base64 or base64url key string is the same key as its bytes', () => {
  const bytes = randomBytes(32)
  const sealed = assertRight(encryptedSerializer({ keys: [{ id: 'k', key: bytes }] }).stringify(session, sid))
  for (const key of [bytes.toString('base64'), bytes.toString('base64url'), new Uint8Array(bytes)])
    assert.equal(assertRight(encryptedSerializer({ keys: [{ id: 'k', key }] }).parse(sealed, sid)), session)
})

it('parseStored passes the session id; no id, no decryption', () => {
  const s = encryptedSerializer({ keys: [k1] })
  const value = assertRight(s.stringify(session, sid))
  assert.equal(assertRight(parseStored(s)('sessions:abc', value, 'abc')), session)
  assert.is(assertLeft(parseStored(s)('sessions:abc', value))._tag, 'SerializerFailed')
})

const store = suite('encryptedSerializer in a store')

store(
  'set, get and all round trip; Redis holds ciphertext; a value moved to another id is a miss + corrupt',
  async () => {
    const redis = makeFakeRedis()
    const s = createRedisStore(redis, { serializer: encryptedSerializer({ keys: [k1] }), now: redis.now })
    const corrupt: Array<unknown> = []
    s.on('corrupt', (e) => corrupt.push(e))
    const live = { ...session, cookie: { expires: new Date(redis.now() + 60_000), originalMaxAge: 60_000 } }
    assert.is(await s.access.set('abc', live as unknown as SessionData), 'written')
    const stored = await redis.get('sessions:abc')
    assert.ok(typeof stored === 'string' && stored.startsWith('v1.k1.') && !stored.includes('hunter2'))
    assert.is(((await s.access.get('abc')) as unknown as { secret: string }).secret, 'hunter2-correct-horse')
    assert.equal(Object.keys(await s.access.all()), ['abc'])
    await redis.set('sessions:other', stored as string, { PX: 60_000, GET: true })
    assert.is(await s.access.get('other'), null)
    assert.is(corrupt.length, 1)
    const error = corrupt[0] as { code: string; storeError: { key: string } }
    assert.is(error.code, 'ESESSION_CORRUPT')
    assert.is(error.storeError.key, 'sessions:other')
    assert.match(String(error), 'authentication failed')
    assert.not.ok(String(corrupt[0]).includes('hunter2'))
  }
)

it.run()
store.run()
