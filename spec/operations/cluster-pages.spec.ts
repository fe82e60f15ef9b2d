import * as E from 'fp-ts/lib/Either'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { RedisLike } from '../../src/client/contract'
import { keySlot } from '../../src/client/slot'
import type { StoreError } from '../../src/errors'
import { makeClusterPages, makeClusterReads } from '../../src/operations/cluster-pages'
import { NODE_MGET_SCRIPT } from '../../src/scripts'
import type { ScannedKey } from '../../src/operations/scan-batches'
import { makeFakeRedis } from '../fakes/redis'
import { runLeft, runRight } from '../helpers'

const walk = async (pages: () => AsyncIterable<E.Either<StoreError, ReadonlyArray<ScannedKey>>>) => {
  const batches: Array<ReadonlyArray<ScannedKey>> = []
  const failures: Array<StoreError> = []
  for await (const b of pages())
    (E.isLeft(b) ? failures : batches).push(E.isLeft(b) ? (b.left as never) : (b.right as never))
  return { batches, failures }
}

const masterWith = (keys: ReadonlyArray<string>) =>
  makeFakeRedis(Object.fromEntries(keys.map((k) => [k, '{"cookie":{}}'])))

const pages = suite('makeClusterPages')

pages('every master is scanned; each batch holds keys of one master, of many slots', async () => {
  const a = masterWith(Array.from({ length: 40 }, (_, i) => `sessions:a${i}`))
  const b = masterWith(Array.from({ length: 40 }, (_, i) => `sessions:b${i}`))
  const { batches, failures } = await walk(
    makeClusterPages({ cluster: { masters: async () => [a, b] }, prefix: 'sessions:', batchSize: 25 })
  )
  assert.equal(failures, [])
  assert.is(batches.flat().length, 80)
  assert.equal(
    batches.map((batch) => new Set(batch.map((k) => k.sid[0])).size),
    batches.map(() => 1),
    'no batch mixes the masters'
  )
  assert.ok(
    batches.every((batch) => batch.length <= 25),
    'at most batchSize keys'
  )
  assert.ok(new Set(batches[0]?.map((k) => keySlot(k.key))).size > 1, 'a batch is not cut by slot')
})

/** A master whose SCAN replies only when `release` is called. */
const heldMaster = (keys: ReadonlyArray<string>) => {
  const inner = masterWith(keys)
  const waiting: Array<() => void> = []
  const master: Pick<RedisLike, 'scan'> = {
    scan: (cursor, options) =>
      new Promise((resolve, reject) => waiting.push(() => inner.scan(cursor, options).then(resolve, reject)))
  }
  return { master, scans: () => waiting.length, release: () => waiting.splice(0).forEach((go) => go()) }
}

pages('the masters are scanned at the same time: a slow master does not hold back the others', async () => {
  const slow = heldMaster(['sessions:slow'])
  const fast = masterWith(Array.from({ length: 5 }, (_, i) => `sessions:f${i}`))
  const source = makeClusterPages({
    cluster: { masters: async () => [slow.master, fast] },
    prefix: 'sessions:',
    batchSize: 2
  })()
  const it = source[Symbol.asyncIterator]()
  const seen: Array<string> = []
  for (let i = 0; i < 3; i++) {
    const r = await it.next()
    if (r.done === true || E.isLeft(r.value)) assert.unreachable('a batch of the fast master')
    else seen.push(...r.value.right.map((k) => k.sid))
  }
  assert.equal(
    seen.sort(),
    ['f0', 'f1', 'f2', 'f3', 'f4'],
    "the fast master's batches came while the slow SCAN was pending"
  )
  assert.is(slow.scans(), 1, 'the slow master was asked at once')
  slow.release()
  const last = await it.next()
  assert.ok(last.done !== true && E.isRight(last.value) && last.value.right[0]?.sid === 'slow')
  assert.is((await it.next()).done, true)
})

pages('a master runs at most one batch ahead of the consumer', async () => {
  const many = masterWith(Array.from({ length: 50 }, (_, i) => `sessions:m${i}`))
  const source = makeClusterPages({
    cluster: { masters: async () => [many] },
    prefix: 'sessions:',
    batchSize: 1,
    countHint: 10
  })()
  const it = source[Symbol.asyncIterator]()
  await it.next()
  await new Promise((r) => setTimeout(r, 20))
  // The first page of 10 keys, and the next SCAN sent before its batches were handed out: nothing more.
  assert.is(many.calls.filter((c) => c[0] === 'SCAN').length, 2)
  await it.return?.()
})

pages('the masters are read again at the start of every walk', async () => {
  let calls = 0
  const m = masterWith(['sessions:x'])
  const source = makeClusterPages({
    cluster: { masters: async () => (calls++, [m]) },
    prefix: 'sessions:',
    batchSize: 10
  })
  await walk(source)
  await walk(source)
  assert.is(calls, 2)
})

pages('a failure to read the masters, or a failing SCAN, is yielded and ends the walk', async () => {
  const down = await walk(
    makeClusterPages({
      cluster: { masters: () => Promise.reject(new Error('CLUSTERDOWN')) },
      prefix: 's:',
      batchSize: 10
    })
  )
  assert.is(down.failures[0]?._tag, 'CommandFailed')
  const broken = heldMaster([])
  const second = masterWith(Array.from({ length: 30 }, (_, i) => `s:y${i}`))
  const failing: Pick<RedisLike, 'scan'> = {
    scan: (cursor, options) => broken.master.scan(cursor, options).then(() => Promise.reject(new Error('LOADING')))
  }
  const source = makeClusterPages({
    cluster: { masters: async () => [failing, second] },
    prefix: 's:',
    batchSize: 1,
    countHint: 5
  })()
  const seen: Array<string> = []
  for await (const b of source) {
    seen.push(E.isLeft(b) ? 'failure' : 'batch')
    if (seen.length === 2) broken.release()
  }
  assert.equal(seen.slice(0, 2), ['batch', 'batch'])
  assert.is(seen[seen.length - 1], 'failure', 'the walk ended at the failure')
  assert.is(seen.filter((x) => x === 'failure').length, 1)
  assert.ok(seen.length < 31, `the other master's batches stopped (${seen.length - 1} yielded)`)
})

const reads = suite('makeClusterReads')

/** The fake, with EVALSHA of the node read script answering `error` while `failing` holds. */
const clusterLike = (seed: Record<string, string>, error?: Error) => {
  const redis = makeFakeRedis(seed)
  const client: Pick<RedisLike, 'mGet' | 'evalSha' | 'eval'> = {
    mGet: redis.mGet,
    eval: redis.eval,
    evalSha: (sha1, args) =>
      error !== undefined && sha1 === NODE_MGET_SCRIPT.sha1
        ? (redis.calls.push(['EVALSHA', sha1, args.keys, args.arguments]), Promise.reject(error))
        : redis.evalSha(sha1, args)
  }
  return { redis, client }
}

reads('one script call for a batch of many slots: keys as arguments, routed by the first key', async () => {
  const { redis, client } = clusterLike({ 'p:s:a': 'A', 'p:s:c': 'C' })
  const keys = ['s:a', 's:b', 's:c']
  assert.ok(new Set(keys.map((k) => keySlot('p:' + k))).size > 1)
  // The fake ignores the client prefix; the arguments carry it, as a real client does not add it there.
  const values = await runRight(makeClusterReads({ client, keyPrefix: 'p:' })(keys))
  assert.equal(redis.calls, [['EVALSHA', NODE_MGET_SCRIPT.sha1, ['s:a'], ['p:s:a', 'p:s:b', 'p:s:c']]])
  assert.equal(values, ['A', null, 'C'])
})

reads('a key its node no longer serves: read again one MGET per slot, values in the asked order', async () => {
  const keys = Array.from({ length: 12 }, (_, i) => `s:k${i}`)
  const seed = Object.fromEntries(keys.filter((_, i) => i % 3 !== 1).map((k) => [k, `v-${k}`]))
  const moved = new Error('ERR Script attempted to access a non local key in a cluster node')
  const { redis, client } = clusterLike(seed, moved)
  const values = await runRight(makeClusterReads({ client, keyPrefix: '' })(keys))
  assert.equal(
    values,
    keys.map((k, i) => (i % 3 !== 1 ? `v-${k}` : null))
  )
  const mgets = redis.calls.filter((c) => c[0] === 'MGET').map((c) => c.slice(1) as Array<string>)
  assert.is(mgets.flat().length, keys.length, 'every key read once more')
  assert.ok(
    mgets.every((group) => new Set(group.map(keySlot)).size === 1),
    'each MGET of one slot'
  )
})

reads(
  'a server that refuses undeclared keys: read slot by slot with declared keys, the same values, from then on',
  async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `s:k${i}`)
    const seed = Object.fromEntries(keys.filter((_, i) => i % 3 !== 1).map((k) => [k, `v-${k}`]))
    const expected = await runRight(makeClusterReads({ client: clusterLike(seed).client, keyPrefix: '' })(keys))
    // Dragonfly's answer (kvrocks in strict mode answers alike).
    const refusal = new Error('ERR Error running script: script tried accessing undeclared key, key: s:k1')
    const { redis, client } = clusterLike(seed, refusal)
    const read = makeClusterReads({ client, keyPrefix: '' })
    assert.equal(await runRight(read(keys)), expected)
    assert.equal(await runRight(read(keys)), expected)
    assert.is(redis.calls.filter((c) => c[0] === 'EVALSHA').length, 1, 'the script is tried once, then never again')
    const mgets = redis.calls.filter((c) => c[0] === 'MGET').map((c) => c.slice(1) as Array<string>)
    assert.is(mgets.flat().length, 2 * keys.length)
    assert.ok(
      mgets.every((group) => new Set(group.map(keySlot)).size === 1),
      'each MGET of one slot'
    )
  }
)

reads('any other failure is not retried: it is the script call that failed, EVALSHA, with its cause', async () => {
  const down = new Error('CLUSTERDOWN The cluster is down')
  const { redis, client } = clusterLike({ 's:a': 'A' }, down)
  const failed = await runLeft(makeClusterReads({ client, keyPrefix: '' })(['s:a']))
  assert.equal(failed, { _tag: 'CommandFailed', command: 'EVALSHA', key: 's:a', cause: down })
  assert.equal(
    redis.calls.map((c) => c[0]),
    ['EVALSHA']
  )
})

reads('an empty batch sends nothing', async () => {
  const { redis, client } = clusterLike({})
  assert.equal(await runRight(makeClusterReads({ client, keyPrefix: '' })([])), [])
  assert.equal(redis.calls, [])
})

pages.run()
reads.run()
