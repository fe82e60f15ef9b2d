/**
 * The stable `code` of each kind of failure: what a `SessionStoreError` carries, and what a trace's error shows. A
 * module of its own, with no dependency, so that the core reads a code without loading the messages (io-ts paths).
 *
 * @since 0.1.0
 */
import type { StoreError } from './errors'

/**
 * The `code` of every error the store passes on, one per kind of failure.
 *
 * @category model
 * @since 0.1.0
 */
export type SessionStoreErrorCode =
  | 'ESESSION_REDIS'
  | 'ESESSION_CORRUPT'
  | 'ESESSION_UNSERIALIZABLE'
  | 'ESESSION_INVALID'
  | 'ESESSION_INVALID_ID'
  | 'ESESSION_TOO_LARGE'
  | 'ETIMEDOUT'
  | 'ESESSION_UNAVAILABLE'
  | 'ESESSION_SERIALIZER'
  | 'ESESSION_DEFECT'
  | 'ESESSION_NOT_REPLICATED'
  | 'ESESSION_NOT_CONFIGURED'
  | 'ESESSION_NO_SESSION'
  | 'ESESSION_INVALID_OWNER'
  | 'ESESSION_WALK_FAILED'
  | 'ESESSION_CONFLICT'

const CODES: { readonly [K in StoreError['_tag']]: SessionStoreErrorCode } = {
  CommandFailed: 'ESESSION_REDIS',
  ParseFailed: 'ESESSION_CORRUPT',
  DecodeFailed: 'ESESSION_CORRUPT',
  StringifyFailed: 'ESESSION_UNSERIALIZABLE',
  InvalidSession: 'ESESSION_INVALID',
  InvalidId: 'ESESSION_INVALID_ID',
  TooLarge: 'ESESSION_TOO_LARGE',
  TimedOut: 'ETIMEDOUT',
  Unavailable: 'ESESSION_UNAVAILABLE',
  SerializerFailed: 'ESESSION_SERIALIZER',
  Defect: 'ESESSION_DEFECT',
  NotReplicated: 'ESESSION_NOT_REPLICATED',
  NotConfigured: 'ESESSION_NOT_CONFIGURED',
  NoSession: 'ESESSION_NO_SESSION',
  InvalidOwner: 'ESESSION_INVALID_OWNER',
  WalkFailed: 'ESESSION_WALK_FAILED',
  Conflict: 'ESESSION_CONFLICT'
}

/**
 * The stable code of a `StoreError` (`ESESSION_REDIS`, `ETIMEDOUT`, …), as its `SessionStoreError` has it.
 *
 * @internal
 */
export const codeOf = (e: StoreError): SessionStoreErrorCode => CODES[e._tag]
