/**
 * Redis's glob matching (`stringmatchlen` in Redis's util.c), for the in-memory client's `SCAN … MATCH`: the
 * same rules on the same bytes. `*` any run, `?` one byte, `[abc]`, `[^abc]`, `[a-z]` (ends in either order),
 * `\` escapes the next character (also inside brackets), an unclosed `[` runs to the end of the pattern.
 * Pattern and key are compared as UTF-8 bytes, signed as C's `char` is on x86 and ARM64 Linux (so a range with
 * a byte over 0x7f behaves as it does in Redis).
 *
 * @since 0.1.0
 */

/** The bytes of `s` as Redis receives them (UTF-8), each as a signed C `char`. */
const bytesOf = (s: string): Int8Array => {
  const b = Buffer.from(s, 'utf8')
  return new Int8Array(b.buffer, b.byteOffset, b.length)
}

/** The byte at `i`, or 0 past the end: Redis reads the NUL that ends its strings there. */
const at = (a: Int8Array, i: number): number => (i < a.length ? (a[i] as number) : 0)

const BACKSLASH = 0x5c
const STAR = 0x2a
const QUESTION = 0x3f
const OPEN = 0x5b
const CLOSE = 0x5d
const CARET = 0x5e
const DASH = 0x2d

/** Patterns nested deeper than this (a `*` per level) match nothing, as in current Redis (CVE-2024-31228). */
const MAX_NESTING = 1000

interface Skip {
  longer: boolean
}

/**
 * One step of the match, from byte `p` of the pattern and `s` of the string: a port of `stringmatchlen_impl`,
 * case-sensitive, with its `skipLongerMatches` shortcut and its nesting limit.
 */
const matchFrom = (
  pattern: Int8Array,
  p0: number,
  str: Int8Array,
  s0: number,
  skip: Skip,
  nesting: number
): boolean => {
  if (nesting > MAX_NESTING) return false
  let p = p0
  let s = s0
  let patternLen = pattern.length - p0
  let stringLen = str.length - s0
  while (patternLen > 0 && stringLen > 0) {
    const c = at(pattern, p)
    if (c === STAR) {
      while (patternLen > 0 && at(pattern, p + 1) === STAR) {
        p++
        patternLen--
      }
      if (patternLen === 1) return true
      while (stringLen > 0) {
        if (matchFrom(pattern, p + 1, str, s, skip, nesting + 1)) return true
        if (skip.longer) return false
        s++
        stringLen--
      }
      skip.longer = true
      return false
    } else if (c === QUESTION) {
      s++
      stringLen--
    } else if (c === OPEN) {
      p++
      patternLen--
      const not = at(pattern, p) === CARET
      if (not) {
        p++
        patternLen--
      }
      let match = false
      for (;;) {
        if (at(pattern, p) === BACKSLASH && patternLen >= 2) {
          p++
          patternLen--
          if (at(pattern, p) === at(str, s)) match = true
        } else if (at(pattern, p) === CLOSE) {
          break
        } else if (patternLen === 0) {
          p--
          patternLen++
          break
        } else if (patternLen >= 3 && at(pattern, p + 1) === DASH) {
          const a = at(pattern, p)
          const b = at(pattern, p + 2)
          const ch = at(str, s)
          p += 2
          patternLen -= 2
          if (ch >= Math.min(a, b) && ch <= Math.max(a, b)) match = true
        } else if (at(pattern, p) === at(str, s)) {
          match = true
        }
        p++
        patternLen--
      }
      if (not) match = !match
      if (!match) return false
      s++
      stringLen--
    } else {
      if (c === BACKSLASH && patternLen >= 2) {
        p++
        patternLen--
      }
      if (at(pattern, p) !== at(str, s)) return false
      s++
      stringLen--
    }
    p++
    patternLen--
    if (stringLen === 0) {
      while (at(pattern, p) === STAR) {
        p++
        patternLen--
      }
      break
    }
  }
  return patternLen === 0 && stringLen === 0
}

/**
 * Whether `key` matches the `SCAN`/`KEYS` glob `pattern`, exactly as Redis decides it.
 *
 * @internal
 */
export const globMatches = (pattern: string, key: string): boolean =>
  matchFrom(bytesOf(pattern), 0, bytesOf(key), 0, { longer: false }, 0)
