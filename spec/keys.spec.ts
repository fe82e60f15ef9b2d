import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { escapeGlob, matchPattern, stripPrefix } from '../src/keys'

test('escapeGlob escapes every MATCH metacharacter', () => {
  assert.is(escapeGlob('a[1]:*?\\'), 'a\\[1\\]:\\*\\?\\\\')
  assert.is(matchPattern('sessions:'), 'sessions:*')
})

test('stripPrefix returns the id only for keys under the prefix', () => {
  const strip = stripPrefix('sessions:')
  assert.is(strip('sessions:abc'), 'abc')
  assert.is(strip('sessions1:abc'), undefined)
  assert.is(strip('sessions:'), undefined)
  assert.is(strip('other:sessions:abc'), undefined)
})

test.run()
