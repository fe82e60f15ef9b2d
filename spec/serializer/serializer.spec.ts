import * as E from 'fp-ts/lib/Either'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fromPlainSerializer, toSerializer } from '../../src/serializer/serializer'
import { assertLeft, assertRight } from '../helpers'

const plain = suite('fromPlainSerializer')

plain('a throwing plain serializer becomes a Left, never a throw', () => {
  const s = fromPlainSerializer<never>({
    stringify: () => {
      throw new Error('no')
    },
    parse: () => {
      throw new Error('bad')
    }
  })
  assert.ok(E.isLeft(s.stringify(undefined as never)))
  assert.is(assertLeft(s.parse('x'))._tag, 'Unparsable')
})

plain('toSerializer accepts the global JSON', () => {
  const s = toSerializer<unknown>(JSON)
  assert.equal(assertRight(s.parse(assertRight(s.stringify({ a: 1 })))), { a: 1 })
})

plain.run()
