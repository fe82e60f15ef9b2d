/**
 * Concurrent saves, model-based: random interleavings of 2 to 4 requests of one session, each loading it, changing
 * random top-level fields (a new value, a deletion, or nothing at all), and saving it, in every mode. After every
 * save the stored session must equal the model's, which applies the rules of `concurrentSaves` in commit order,
 * written here field by field and independently of `mergeSessions`:
 *
 * - `'overwrite'`: the save's value, whole;
 * - `'merge'`: each field this request changed takes its value, every other field keeps the stored one;
 * - `'fail'`: the save's value if nobody changed a field since this request loaded it, else `ESESSION_CONFLICT` and
 *   the stored session as it was;
 * - every mode: a request that changed no field writes nothing (its save only renews the TTL).
 *
 * The store runs on the in-memory client (its equivalence with Redis, conditional saves included, is
 * memory-equivalence.spec.ts's business).
 */
import type { SessionData } from 'express-session'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import { isDeepStrictEqual } from 'util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { makeStoreOperations } from '../../src/assemble'
import { makeSaveBases } from '../../src/operations/concurrent-saves'
import { resolveOptions, type ConcurrentSaves } from '../../src/options'
import { createMemoryClient } from '../../src/memory'
import { assertRight } from '../helpers'
import { checkProperty, show } from './support'

const FIELDS = ['a', 'b', 'c', 'd'] as const
type Field = (typeof FIELDS)[number]
type Fields = Partial<Record<Field, number>>
/** A change: a field gets a value, or is deleted (`null`). */
type Change = Partial<Record<Field, number | null>>

const fieldsArb: fc.Arbitrary<Fields> = fc.record(
  { a: fc.integer({ min: 0, max: 3 }), b: fc.integer({ min: 0, max: 3 }), c: fc.integer({ min: 0, max: 3 }) },
  { requiredKeys: [] }
)
const changeArb: fc.Arbitrary<Change> = fc.record(
  Object.fromEntries(FIELDS.map((f) => [f, fc.option(fc.integer({ min: 0, max: 3 }), { nil: null })])) as Record<
    Field,
    fc.Arbitrary<number | null>
  >,
  { requiredKeys: [] }
)

/** 2 to 4 requests, and an order of their events: each request's first event is its load, its second its save. */
const scenarioArb = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record({
    mode: fc.constantFrom<ConcurrentSaves>('overwrite', 'merge', 'fail'),
    initial: fieldsArb,
    changes: fc.array(changeArb, { minLength: n, maxLength: n }),
    order: fc.shuffledSubarray(
      Array.from({ length: 2 * n }, (_, i) => i >> 1),
      { minLength: 2 * n, maxLength: 2 * n }
    )
  })
)

const same = (a: Fields, b: Fields, k: Field): boolean => a[k] === b[k] && k in a === k in b
const differ = (a: Fields, b: Fields): boolean => FIELDS.some((k) => !same(a, b, k))

/** What the model says a save does to `stored`: the new stored fields, or a conflict. */
const modelSave = (mode: ConcurrentSaves, stored: Fields, base: Fields, ours: Fields): Fields | 'conflict' => {
  if (!differ(base, ours)) return stored
  if (mode === 'overwrite') return ours
  if (mode === 'fail') return differ(base, stored) ? 'conflict' : ours
  const merged: Record<string, number> = {}
  for (const k of FIELDS) {
    const from = same(base, ours, k) ? stored : ours
    const v = from[k]
    if (v !== undefined) merged[k] = v
  }
  return merged
}

const fieldsOf = (session: Record<string, unknown>): Fields =>
  Object.fromEntries(Object.entries(session).filter(([k]) => k !== 'cookie')) as Fields

test('random interleavings of requests: the stored session follows the rules in commit order', async () => {
  const seen = { written: 0, conflicts: 0, merged: 0, untouched: 0 }
  await checkProperty('concurrent saves, model-based interleavings', [scenarioArb], async (s) => {
    const client = createMemoryClient({ now: () => 1_700_000_000_000 })
    const ops = makeStoreOperations({
      ...assertRight(resolveOptions({ now: client.clock.now, concurrentSaves: s.mode })),
      client,
      saveBases: makeSaveBases()
    })
    const cookie = () => ({ originalMaxAge: 60_000, expires: new Date(client.clock.now() + 60_000).toISOString() })
    assertRight(await ops.set('abc', { cookie: cookie(), ...s.initial } as unknown as SessionData)())
    let model: Fields = s.initial
    const loaded = new Map<number, { readonly base: Fields; readonly session: Record<string, unknown> }>()
    const trace: Array<string> = []
    for (const r of s.order) {
      const held = loaded.get(r)
      if (held === undefined) {
        const found = assertRight(await ops.get('abc')())
        assert.ok(O.isSome(found), 'the session is there')
        const session = found.value as unknown as Record<string, unknown>
        loaded.set(r, { base: fieldsOf(session), session })
        // The request changes its session in place, as a route does; its cookie expiry moves on (rolling).
        const change = s.changes[r] ?? {}
        for (const [k, v] of Object.entries(change)) {
          if (v === null) delete session[k]
          else session[k] = v
        }
        session['cookie'] = cookie()
        trace.push(`load ${r} ${show(change)}`)
        continue
      }
      const ours = fieldsOf(held.session)
      const expected = modelSave(s.mode, model, held.base, ours)
      const result = await ops.set('abc', held.session as unknown as SessionData)()
      trace.push(`save ${r}`)
      const context = `mode ${s.mode}, initial ${show(s.initial)}, ${trace.join('; ')}`
      if (expected === 'conflict') {
        assert.ok(E.isLeft(result) && result.left._tag === 'Conflict', `a conflict: ${show(result)} (${context})`)
        seen.conflicts++
      } else {
        assert.equal(result, E.right('written'), context)
        if (!differ(held.base, ours)) seen.untouched++
        else if (differ(model, held.base)) seen.merged++
        else seen.written++
        model = expected
      }
      const stored = assertRight(await ops.get('abc')())
      assert.ok(O.isSome(stored))
      const now = fieldsOf(stored.value as unknown as Record<string, unknown>)
      assert.ok(isDeepStrictEqual(now, model), `stored ${show(now)}, model ${show(model)} (${context})`)
    }
  })
  console.log(`  [property] concurrent saves: ${JSON.stringify(seen)}`)
  assert.ok(seen.conflicts > 0 && seen.merged > 0 && seen.untouched > 0, 'every kind of save was met')
})

test.run()
