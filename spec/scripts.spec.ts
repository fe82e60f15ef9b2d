import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as scripts from '../src/scripts'

/** Every key argument of a `redis.call` / `redis.pcall` in `source`: the argument after the command name. */
const keyArguments = (source: string): Array<string> =>
  [...source.matchAll(/redis\.p?call\(\s*'(\w+)'\s*,\s*([^,)]+)/g)].map((m) => (m[2] ?? '').trim())

/** A key the call declared: one of `KEYS`, or a run of them unpacked. */
const declared = (arg: string): boolean => /^KEYS\[/.test(arg) || /^unpack\(KEYS\b/.test(arg)

const all = Object.entries(scripts).filter(
  (e): e is [string, { readonly source: string; readonly sha1: string }] =>
    typeof e[1] === 'object' && e[1] !== null && 'source' in e[1]
)

test('the key parser sees an undeclared key (the spec can fail)', () => {
  assert.equal(keyArguments(`redis.call('GET', ARGV[1]) redis.pcall('DEL', unpack(KEYS, 1, 2))`), [
    'ARGV[1]',
    'unpack(KEYS'
  ])
  assert.not.ok(declared('ARGV[1]'))
  assert.ok(declared('unpack(KEYS'))
  assert.ok(declared('KEYS[i]'))
})

test('every script touches keys, and each declares them in KEYS, but the two cluster node scripts', () => {
  assert.ok(all.length >= 7, `${all.length} scripts found`)
  const undeclared = all
    .filter(([, s]) => {
      const args = keyArguments(s.source)
      assert.ok(args.length > 0)
      return !args.every(declared)
    })
    .map(([name]) => name)
    .sort()
  assert.equal(undeclared, ['NODE_MGET_SCRIPT', 'NODE_TOMBSTONE_SCRIPT'])
})

test('the node scripts touch undeclared keys under pcall first: a refusal is their reply, before any write', () => {
  for (const s of [scripts.NODE_MGET_SCRIPT, scripts.NODE_TOMBSTONE_SCRIPT]) {
    const first = /redis\.(p?call)\(\s*'(\w+)'/.exec(s.source)
    assert.is(first?.[1], 'pcall')
    assert.ok(['GET', 'TYPE'].includes(first?.[2] ?? ''))
  }
})

test.run()
