import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isNodeRedisClient, isSessionClient, toSessionClient } from '../../src/client/check'
import { alwaysReady, type SessionClient } from '../../src/client/contract'
import { fromNodeRedis, NODE_REDIS_COMMANDS, type NodeRedisClient } from '../../src/client/node-redis'
import { makeNodeRedisFake } from '../fakes/redis'
import { assertLeft, assertRight } from '../helpers'

const typeError = (client: unknown): string => {
  const e = assertLeft(toSessionClient(client))
  assert.instance(e, TypeError)
  return e.message
}

/** A SessionClient written by hand (as a test or another adapter would): not node-redis-shaped at all. */
const handMade = (): SessionClient => {
  const fake = makeNodeRedisFake()
  return { ...fake, _tag: 'SessionClient', keyPrefix: 'hand:', connection: alwaysReady, info: async () => '' }
}

const check = suite('toSessionClient')

check('a SessionClient is passed through as it is', () => {
  const client = handMade()
  assert.is(assertRight(toSessionClient(client)), client)
  const adapted = fromNodeRedis(makeNodeRedisFake())
  assert.is(assertRight(toSessionClient(adapted)), adapted)
})

check('a node-redis-shaped client is adapted, with the one adapter of that client', async () => {
  const fake = makeNodeRedisFake()
  const client = assertRight(toSessionClient(fake))
  assert.is(client._tag, 'SessionClient')
  assert.is.not(client as unknown, fake)
  assert.is(client, fromNodeRedis(fake))
  assert.is(assertRight(toSessionClient(fake)), client)
  await client.set('k', 'v', { PX: 1000, GET: true })
  assert.is(await client.get('k'), 'v')
  assert.equal(
    fake.calls.map((c) => c[0]),
    ['SET', 'GET']
  )
})

check('null, undefined or a primitive: "client is required", naming what was passed', () => {
  assert.match(
    typeError(null),
    /^createRedisStore\(client, options\): client is required, got null: pass a node-redis client/
  )
  assert.match(typeError(undefined), 'client is required, got undefined')
  assert.match(typeError(6379), 'client is required, got number')
  assert.match(typeError('redis://localhost'), 'client is required, got string')
})

check('an options bag with a client: the client goes first', () => {
  const message = typeError({ client: makeNodeRedisFake(), prefix: 'app:' })
  assert.match(message, 'createRedisStore takes the client as its first argument: createRedisStore(client, options)')
  assert.match(message, 'new RedisStore({ client, ...options })')
  // Even with no client inside: a `client` key means the caller meant options.
  assert.match(typeError({ client: undefined }), 'takes the client as its first argument')
})

check('a node-redis client that happens to have a client property is still a client', () => {
  const fake = Object.assign(makeNodeRedisFake(), { client: 'its own field' })
  assert.is(assertRight(toSessionClient(fake))._tag, 'SessionClient')
})

check('missing command methods are named, with the ioredis hint', () => {
  const message = typeError({ get: async () => null, set: async () => 'OK' })
  assert.match(
    message,
    /^client is not a node-redis client: it has no getEx, getDel, mGet, evalSha, eval, scan methods \(for ioredis, pass fromIoRedis\(client\)/
  )
  const { scan: _scan, ...noScan } = makeNodeRedisFake()
  assert.match(typeError(noScan), 'it has no scan method (')
  assert.match(typeError({}), `it has no ${NODE_REDIS_COMMANDS.join(', ')} methods`)
  // A property that is not a function is missing too.
  assert.match(typeError({ ...makeNodeRedisFake(), mGet: 'MGET' }), 'it has no mGet method (')
})

check.run()

// --- refinements

const refinements = suite('client refinements')

refinements('isSessionClient: the SessionClient tag', () => {
  assert.is(isSessionClient(handMade()), true)
  assert.is(isSessionClient(fromNodeRedis(makeNodeRedisFake())), true)
  assert.is(isSessionClient(makeNodeRedisFake()), false)
  assert.is(isSessionClient({ _tag: 'Serializer' }), false)
  assert.is(isSessionClient(null), false)
})

refinements('isNodeRedisClient: every command method, as functions', () => {
  assert.is(isNodeRedisClient(makeNodeRedisFake()), true)
  assert.is(isNodeRedisClient({ client: makeNodeRedisFake() }), false)
  assert.is(isNodeRedisClient({ ...makeNodeRedisFake(), eval: undefined }), false)
  assert.is(isNodeRedisClient(undefined), false)
  const adapted: NodeRedisClient = fromNodeRedis(makeNodeRedisFake())
  assert.is(isNodeRedisClient(adapted), true, 'an adapter has the same methods')
})

refinements.run()
