/**
 * Property: no reply throws. A client whose every command answers at random — the right reply (from an in-memory
 * client underneath), a reply of a wrong shape (numbers, strings, arrays, objects, `undefined`, buffers), a
 * rejection (an `Error`, a value that is no `Error`, `WRONGTYPE` and `NOSCRIPT` messages), a synchronous throw, or
 * no answer at all — drives every operation, with the features on and off, once through the operations record and
 * once through the facade. Every operation ends exactly once, with a right answer or a coded error: the record's
 * task never rejects and never answers a `Defect` (nothing here throws inside the store), the facade calls its
 * callback once with `null` or a coded error (`ESESSION_*` or `ETIMEDOUT`, never `ESESSION_DEFECT`), and nothing hangs.
 */
import * as E from 'fp-ts/lib/Either'
import type { SessionData } from 'express-session'
import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SessionClient } from '../../src/client/contract'
import { makeStoreOperations } from '../../src/assemble'
import { createMemoryClient } from '../../src/client/memory'
import { createRedisStore } from '../../src/express/create-redis-store'
import { resolveOptions, type StoreOptions } from '../../src/options'
import { checkProperty, show } from './support'

/** Far longer than any operation here takes; an operation still pending then hangs. */
const HANG_MS = 2000
const DEADLINE_MS = 10

type Answer =
  | { readonly kind: 'real' }
  | { readonly kind: 'reply'; readonly value: unknown }
  | { readonly kind: 'reject'; readonly error: unknown }
  | { readonly kind: 'throw'; readonly error: unknown }
  | { readonly kind: 'hang' }

const wrongShape: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, 0, -1, 1, 'OK', '', NaN, true, [], {}, [null], [-2], [1, 2, 3], ['a']),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)), { maxLength: 4 }),
  fc.record({ cursor: fc.oneof(fc.string({ maxLength: 2 }), fc.integer()), keys: fc.anything({ maxDepth: 1 }) }),
  fc.anything({ maxDepth: 2 })
)

const failure: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    new Error('ECONNRESET'),
    new Error('WRONGTYPE Operation against a key holding the wrong kind of value'),
    new Error('NOSCRIPT No matching script. Please use EVAL.'),
    'NOSCRIPT as a string',
    'WRONGTYPE as a string',
    undefined,
    null,
    42,
    { message: 'an object, no Error' }
  ),
  fc.string({ maxLength: 8 }).map((m) => new Error(m)),
  fc.anything({ maxDepth: 1 })
)

const answer = (hangs: boolean): fc.Arbitrary<Answer> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant<Answer>({ kind: 'real' }) },
    { weight: 3, arbitrary: wrongShape.map((value): Answer => ({ kind: 'reply', value })) },
    { weight: 2, arbitrary: failure.map((error): Answer => ({ kind: 'reject', error })) },
    { weight: 1, arbitrary: failure.map((error): Answer => ({ kind: 'throw', error })) },
    ...(hangs ? [{ weight: 1, arbitrary: fc.constant<Answer>({ kind: 'hang' }) }] : [])
  )

const BATCHED = ['all', 'ids', 'length', 'clear', 'iterate'] as const
const SINGLE = ['get', 'set', 'touch', 'destroy', 'sessionsOf', 'destroySessionsOf'] as const
type Op = (typeof BATCHED)[number] | (typeof SINGLE)[number]

const optionsArb: fc.Arbitrary<StoreOptions> = fc
  .record({
    ownerOf: fc.boolean(),
    touchAfterSeconds: fc.constantFrom(0, 60),
    absoluteLifetimeSeconds: fc.constantFrom(0, 3600),
    onCorrupt: fc.constantFrom<'miss' | 'fail'>('miss', 'fail'),
    deadline: fc.boolean()
  })
  .map(
    (o): StoreOptions => ({
      ...(o.ownerOf ? { ownerOf: (s: SessionData) => (s as unknown as { owner?: string }).owner } : {}),
      touchAfterSeconds: o.touchAfterSeconds,
      absoluteLifetimeSeconds: o.absoluteLifetimeSeconds,
      onCorrupt: o.onCorrupt,
      operationTimeoutMs: o.deadline ? DEADLINE_MS : 0
    })
  )

const caseArb = fc
  .record({ op: fc.constantFrom<Op>(...BATCHED, ...SINGLE), options: optionsArb, seeded: fc.boolean() })
  .chain((c) => {
    // A command that never answers: only with a deadline (every page of a walk has one too).
    const hangs = c.options.operationTimeoutMs !== 0
    return fc.record({
      op: fc.constant(c.op),
      options: fc.constant(c.options),
      seeded: fc.constant(c.seeded),
      answers: fc.array(answer(hangs), { minLength: 1, maxLength: 12 })
    })
  })

type Case = {
  readonly op: Op
  readonly options: StoreOptions
  readonly seeded: boolean
  readonly answers: ReadonlyArray<Answer>
}

const session = (now: number): SessionData =>
  ({ cookie: { originalMaxAge: 60_000, expires: new Date(now + 60_000) }, owner: 'alice' } as unknown as SessionData)

const COMMANDS = ['get', 'set', 'getEx', 'getDel', 'mGet', 'evalSha', 'eval', 'scan'] as const

/** The memory client, seeded, with every command answering the next of `answers` (the last one over and over). */
const misbehaving = async (c: Case): Promise<SessionClient> => {
  const memory = createMemoryClient()
  if (c.seeded) {
    const store = createRedisStore(memory, c.options)
    for (const sid of ['abc', 'def', 'ghi']) await store.access.set(sid, session(memory.clock.now()))
    await memory.set('sessions:bad', '{not json', { PX: 60_000, GET: true })
  }
  let next = 0
  const wrap =
    (name: (typeof COMMANDS)[number]) =>
    (...args: Array<unknown>): Promise<unknown> => {
      const a = c.answers[Math.min(next++, c.answers.length - 1)] as Answer
      switch (a.kind) {
        case 'real':
          return (memory[name] as (...xs: Array<unknown>) => Promise<unknown>)(...args)
        case 'reply':
          return Promise.resolve(a.value)
        case 'reject':
          return Promise.reject(a.error)
        case 'throw':
          throw a.error
        case 'hang':
          return new Promise(() => undefined)
      }
    }
  const wrapped = Object.fromEntries(COMMANDS.map((name) => [name, wrap(name)]))
  return { ...memory, ...wrapped, info: async () => '' } as unknown as SessionClient
}

const within = <A>(what: string, p: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${HANG_MS} ms`)), HANG_MS)
  })
  return Promise.race([p, hang]).finally(() => clearTimeout(timer))
}

/** A few turns of the event loop, for a second answer to show up. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

const it = suite('property: no reply throws')

it('the operations record: every task resolves, to a Right or a coded Left, never a Defect', async () => {
  await checkProperty('the operations record over a misbehaving client', [caseArb], async (c) => {
    const client = await misbehaving(c)
    const resolved = resolveOptions(c.options)
    assert.ok(E.isRight(resolved))
    const ops = makeStoreOperations({ ...resolved.right, client })
    const now = Date.now()
    const run = async (): Promise<ReadonlyArray<E.Either<{ readonly _tag: string }, unknown>>> => {
      switch (c.op) {
        case 'get':
          return [await ops.sessionGet('abc')(), await ops.get('abc')()]
        case 'set':
          return [await ops.set('abc', session(now))()]
        case 'touch':
          return [await ops.sessionTouch('abc', session(now))(), await ops.touch('abc', session(now))()]
        case 'destroy':
          return [await ops.destroy('abc')()]
        case 'all':
          return [await ops.all()()]
        case 'ids':
          return [await ops.ids()()]
        case 'length':
          return [await ops.length()()]
        case 'clear':
          return [await ops.clear()()]
        case 'sessionsOf':
          return [await ops.sessionsOf('alice')()]
        case 'destroySessionsOf':
          return [await ops.destroySessionsOf('alice')()]
        case 'iterate': {
          const pages: Array<E.Either<{ readonly _tag: string }, unknown>> = []
          for await (const page of ops.iterate()) pages.push(page)
          return pages
        }
      }
    }
    let outcomes: ReadonlyArray<E.Either<{ readonly _tag: string }, unknown>>
    try {
      outcomes = await within(c.op, run())
    } catch (e) {
      assert.unreachable(`${c.op} rejected or hung: ${e instanceof Error ? e.message : show(e)} (case ${show(c)})`)
      return
    }
    for (const r of outcomes)
      if (E.isLeft(r))
        assert.ok(r.left._tag !== 'Defect', `${c.op} answered a Defect: ${show(r.left)} (case ${show(c)})`)
  })
})

it('the facade: one callback (or one settled promise) per call, null or a coded error, never a Defect', async () => {
  await checkProperty('the facade over a misbehaving client', [caseArb], async (c) => {
    const store = createRedisStore(await misbehaving(c), c.options)
    const now = Date.now()
    const coded = (err: unknown): void => {
      if (err === null || err === undefined) return
      const code = (err as { code?: unknown }).code
      assert.ok(err instanceof Error, `${c.op}: not an Error: ${show(err)}`)
      assert.ok(typeof code === 'string' && /^(ESESSION_|ETIMEDOUT$)/.test(code), `${c.op}: uncoded ${show(code)}`)
      assert.ok(code !== 'ESESSION_DEFECT', `${c.op}: a Defect: ${(err as Error).message} (case ${show(c)})`)
    }
    const viaCallback = async (call: (cb: (err: unknown) => void) => void): Promise<void> => {
      let calls = 0
      let first: unknown = null
      let done = (): void => undefined
      const called = new Promise<void>((resolve) => {
        done = resolve
      })
      call((err) => {
        if (calls++ === 0) first = err
        done()
      })
      await within(c.op, called)
      await settle()
      assert.is(calls, 1, `${c.op}: callback called ${calls} times`)
      coded(first)
    }
    const viaPromise = (p: () => Promise<unknown>): Promise<void> =>
      within(
        c.op,
        p().then(
          () => undefined,
          (e: unknown) => coded(e)
        )
      )
    switch (c.op) {
      case 'get':
        return viaCallback((cb) => store.get('abc', cb))
      case 'set':
        return viaCallback((cb) => store.set('abc', session(now), cb))
      case 'touch':
        return viaCallback((cb) => store.touch('abc', session(now), cb))
      case 'destroy':
        return viaCallback((cb) => store.destroy('abc', cb))
      case 'all':
        return viaCallback((cb) => store.all(cb))
      case 'ids':
        return viaCallback((cb) => store.ids(cb))
      case 'length':
        return viaCallback((cb) => store.length(cb))
      case 'clear':
        return viaCallback((cb) => store.clear(cb))
      case 'sessionsOf':
        return viaPromise(() => store.access.sessionsOf('alice'))
      case 'destroySessionsOf':
        return viaPromise(() => store.access.destroySessionsOf('alice'))
      case 'iterate':
        return viaPromise(async () => {
          for await (const _ of store.access.iterate());
        })
    }
  })
})

it.run()
