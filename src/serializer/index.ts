/**
 * connect-redis-session/serializer: the building blocks of a serializer of your own. The ready ones
 * (`jsonSerializer`, `codecSerializer`, `encryptedSerializer`) are at the package root.
 *
 * @since 0.1.0
 */
export { fromPlainSerializer } from './serializer'
export type { ParseIssue, PlainSerializer, Serializer, SerializerContext } from './serializer'
export { makeCodecSerializer } from './codec'
export type { SessionCodec } from './codec'
export { asSessionData } from './session'
export type { StoredCookie, StoredSession } from './session'
