/**
 * The default serializer: JSON, safe against `__proto__` and `constructor.prototype` payloads.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { SessionData } from 'express-session'
import type { Serializer } from './serializer'
import { asSessionData } from './session'
import { isObject } from '../refinements'

// Both spellings of each key, including JSON's \u escapes (the pre-check of secure-json-parse).
const PROTO =
  /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/
const CONSTRUCTOR =
  /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/

/** Cheap substring checks first: the regular expressions run only on text that could match them. */
const mayHidePrototypeKey = (raw: string): boolean =>
  (raw.includes('__proto__') || raw.includes('constructor') || raw.includes('\\u')) &&
  (PROTO.test(raw) || CONSTRUCTOR.test(raw))

/**
 * Removes own `__proto__` keys and `constructor.prototype` members everywhere in a parsed JSON value, without
 * recursion (deep payloads cannot overflow the stack).
 *
 * @internal
 */
export const scrubPrototypeKeys = (root: unknown): void => {
  const stack: Array<unknown> = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (!isObject(node)) continue
    if (Object.prototype.hasOwnProperty.call(node, '__proto__')) delete node['__proto__']
    const ctor = Object.prototype.hasOwnProperty.call(node, 'constructor') ? node['constructor'] : undefined
    if (isObject(ctor) && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) delete ctor['prototype']
    for (const k of Object.keys(node)) stack.push(node[k])
  }
}

/**
 * `JSON.parse` that never yields an object able to replace a prototype when copied with `[[Set]]` (as
 * express-session's `Cookie` constructor does). The walk only runs when the raw text mentions such a key.
 *
 * @internal
 */
export const safeJsonParse = (raw: string): E.Either<unknown, unknown> => {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch (e) {
    return E.left(e)
  }
  if (mayHidePrototypeKey(raw)) scrubPrototypeKeys(value)
  return E.right(value)
}

/**
 * `JSON.stringify` as a total function: cycles, BigInts and throwing `toJSON`s become a `Left`, and so does a
 * value JSON cannot represent at all.
 *
 * @internal
 */
export const safeJsonStringify = (value: unknown): E.Either<unknown, string> => {
  let text: string | undefined
  try {
    text = JSON.stringify(value) as string | undefined
  } catch (e) {
    return E.left(e)
  }
  return typeof text === 'string' ? E.right(text) : E.left(new TypeError('JSON.stringify produced no text'))
}

/**
 * The default serializer. `stringify` is `JSON.stringify` (an express-session `Cookie` writes itself through
 * `toJSON`, `expires` as an ISO string); `parse` is `safeJsonParse`, then `asSessionData`: the result is
 * what `SessionData` says, `cookie.expires` a `Date` again, and a value without a `cookie` object is corrupt.
 *
 * @category serializers
 * @since 0.1.0
 */
export const jsonSerializer: Serializer<SessionData> = {
  _tag: 'Serializer',
  stringify: (value) => safeJsonStringify(value),
  parse: (raw) => {
    const parsed = safeJsonParse(raw)
    return E.isLeft(parsed) ? E.left({ _tag: 'Unparsable', cause: parsed.left }) : asSessionData(parsed.right)
  }
}
