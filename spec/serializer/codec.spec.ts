import * as t from 'io-ts'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { codecSerializer, makeCodecSerializer } from '../../src/serializer/codec'
import { parseIssueAt } from '../../src/serializer/serializer'
import { toError } from '../../src/express/to-error'
import { assertLeft, assertRight } from '../helpers'

const codec = suite('codecSerializer')

const StoredSession = t.type({
  cookie: t.type({ expires: t.union([t.string, t.null]) }),
  user: t.type({ id: t.number, name: t.string })
})

codec('valid data decodes', () => {
  const s = makeCodecSerializer(StoredSession)
  const value = { cookie: { expires: null }, user: { id: 1, name: 'a' } }
  assert.equal(assertRight(s.parse(assertRight(s.stringify(value)))), value)
})

codec('invalid data is an error naming the key and the failing path', () => {
  const s = makeCodecSerializer(StoredSession)
  const issue = assertLeft(s.parse('{"cookie":{"expires":null},"user":{"id":"1","name":"a"}}'))
  assert.is(issue._tag, 'Invalid')
  const err = toError(parseIssueAt('sessions:abc')(issue))
  assert.is(err.code, 'ESESSION_CORRUPT')
  assert.match(err.message, 'sessions:abc')
  assert.match(err.message, 'user.id: Invalid value "1"')
})

codec('a codec that throws is reported, not thrown', () => {
  const s = codecSerializer({
    decode: () => {
      throw new RangeError('too deep')
    }
  })
  assert.is(assertLeft(s.parse('{}'))._tag, 'Unparsable')
})

codec.run()
