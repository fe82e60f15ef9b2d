import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { commandFailed, type StoreError } from '../../src/errors'
import { failWhenDisconnected } from '../../src/operations/disconnected'
import { timeLimit, withDeadline, withPageDeadlines } from '../../src/operations/deadline'
import type { StoreOperations } from '../../src/operations/model'
import { runLeft, runRight } from '../helpers'

/** A task that answers `result` after `ms`, counting how often it was started. */
const after = <A>(ms: number, result: E.Either<StoreError, A>) => {
  const task = Object.assign(
    (): Promise<E.Either<StoreError, A>> => {
      task.started++
      return new Promise((resolve) => setTimeout(() => resolve(result), ms))
    },
    { started: 0 }
  )
  return task
}

const never: TE.TaskEither<StoreError, never> = () => new Promise(() => undefined)

const deadline = suite('timeLimit')

deadline('past the deadline, a TimedOut naming the operation and the ms', async () => {
  const t0 = Date.now()
  const e = await runLeft(timeLimit('get', 30)(never))
  const ms = Date.now() - t0
  assert.equal(e, { _tag: 'TimedOut', operation: 'get', ms: 30 })
  assert.ok(ms >= 25 && ms < 1000, `took ${ms} ms`)
})

deadline('an answer in time is passed on as it is, Right or Left', async () => {
  assert.is(await runRight(timeLimit('get', 500)(after(5, E.right('ok')))), 'ok')
  const failed = commandFailed('GET', 'k', new Error('boom'))
  assert.is(await runLeft(timeLimit('get', 500)(after(5, E.left(failed)))), failed)
})

deadline('an answer after the deadline is dropped: the TimedOut stands', async () => {
  const late = after(60, E.right('late'))
  const e = await runLeft(timeLimit('set', 20)(late))
  assert.is(e._tag, 'TimedOut')
  await new Promise((r) => setTimeout(r, 60))
  assert.is(late.started, 1)
})

deadline('undefined, 0 or a negative ms means no deadline: the task itself is returned', async () => {
  const task = after(30, E.right(1))
  for (const ms of [undefined, 0, -5]) assert.is(timeLimit('get', ms)(task), task, String(ms))
})

deadline('the clock starts when the task runs, not when it is built, and every run has its own', async () => {
  const bounded = timeLimit('touch', 40)(after(20, E.right(true)))
  await new Promise((r) => setTimeout(r, 60)) // longer than the deadline, before the first run
  assert.is(await runRight(bounded), true)
  assert.is(await runRight(bounded), true)
})

deadline('an answered task leaves no timer behind', async () => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  await runRight(timeLimit('get', 60_000)(after(1, E.right('ok'))))
  const left = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  assert.ok(left <= before, `${left - before} more timers`)
})

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

deadline('the runs in flight share one timer, and none is left once they are answered', async () => {
  const bounded = timeLimit('get', 60_000)
  const before = timers()
  const release: Array<() => void> = []
  const runs = Array.from({ length: 100 }, () =>
    bounded<string>(() => new Promise((resolve) => release.push(() => resolve(E.right('ok')))))()
  )
  assert.is(timers() - before, 1)
  // Answered in any order: the newest first.
  release.reverse().forEach((r) => r())
  assert.equal(await Promise.all(runs), Array(100).fill(E.right('ok')))
  assert.ok(timers() <= before, `${timers() - before} more timers`)
})

deadline('each run times out at its own deadline, whatever the runs around it do', async () => {
  const bounded = timeLimit('touch', 40)
  const t0 = Date.now()
  const first = bounded(never)().then((r) => [r, Date.now() - t0] as const)
  await new Promise((r) => setTimeout(r, 30))
  const second = bounded(never)().then((r) => [r, Date.now() - t0] as const)
  const answered = await runRight(bounded(after(5, E.right('in time'))))
  assert.is(answered, 'in time')
  const [[r1, ms1], [r2, ms2]] = await Promise.all([first, second])
  assert.ok(E.isLeft(r1) && r1.left._tag === 'TimedOut' && E.isLeft(r2) && r2.left._tag === 'TimedOut')
  assert.ok(ms1 >= 35 && ms1 < 65, `first took ${ms1} ms`)
  assert.ok(ms2 >= 65 && ms2 < 200, `second took ${ms2} ms`)
})

deadline(
  'a task that rejects (a broken TaskEither) is a Defect, not an unhandled rejection nor a TimedOut',
  async () => {
    const broken: TE.TaskEither<StoreError, number> = () => Promise.reject(new Error('decorator bug'))
    const r = await timeLimit('get', 1000)(broken)()
    assert.ok(E.isLeft(r))
    assert.is((r as E.Left<StoreError>).left._tag, 'Defect')
  }
)

deadline.run()

// --- the features over a record

const features = suite('withDeadline and failWhenDisconnected over a record')

/** A record whose every operation never answers. */
const hung: StoreOperations = {
  get: () => never,
  set: () => never,
  touch: () => never,
  destroy: () => never,
  all: () => never,
  ids: () => never,
  length: () => never,
  clear: () => never,
  iterate: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => undefined) }) }),
  sessionGet: () => never,
  sessionTouch: () => never,
  sessionsOf: () => never,
  destroySessionsOf: () => never
}
const session = { cookie: { expires: null } } as never
const singleKey = (ops: StoreOperations) =>
  [
    ['get', ops.get('s')],
    ['set', ops.set('s', session)],
    ['touch', ops.touch('s', session)],
    ['destroy', ops.destroy('s')],
    ['get', ops.sessionGet('s')],
    ['touch', ops.sessionTouch('s', session)],
    ['sessionsOf', ops.sessionsOf('alice')],
    ['destroySessionsOf', ops.destroySessionsOf('alice')]
  ] as const

features('withDeadline: each single-key operation, named as express-session knows it, times out', async () => {
  const ops = withDeadline({ operationTimeoutMs: 20 })(hung)
  for (const [operation, te] of singleKey(ops))
    assert.equal(await runLeft(te), { _tag: 'TimedOut', operation, ms: 20 }, operation)
})

features('withDeadline: the batched operations are the ones it decorates; 0 is the record itself', () => {
  const ops = withDeadline({ operationTimeoutMs: 20 })(hung)
  for (const name of ['all', 'ids', 'length', 'clear', 'iterate'] as const) assert.is(ops[name], hung[name], name)
  for (const name of ['get', 'set', 'sessionsOf'] as const) assert.is.not(ops[name], hung[name], name)
  assert.is(withDeadline({ operationTimeoutMs: 0 })(hung), hung)
})

features('failWhenDisconnected: each single-key operation is Unavailable while the client is not ready', async () => {
  let ready = false
  const ops = failWhenDisconnected({ client: { connection: { isReady: () => ready } } })(hung)
  for (const [operation, te] of singleKey(ops)) {
    const e = await runLeft(te)
    assert.ok(e._tag === 'Unavailable' && e.operation === operation, operation)
  }
  ready = true
  assert.is(
    await Promise.race([
      ops
        .get('s')()
        .then(() => 'answered'),
      new Promise((r) => setTimeout(() => r('sent on'), 20))
    ]),
    'sent on'
  )
  for (const name of ['all', 'ids', 'length', 'clear', 'iterate'] as const) assert.is(ops[name], hung[name], name)
})

features.run()

const pages = suite('withPageDeadlines')

pages('gives a deadline per page, named by its command; operationTimeoutMs 0 leaves the deps as they are', async () => {
  const deps = { operationTimeoutMs: 20, prefix: 'sessions:' }
  const limited = withPageDeadlines(deps)
  assert.is(limited.prefix, 'sessions:')
  const limit = limited.pageLimit?.('SCAN')
  assert.ok(limit !== undefined)
  const hung: TE.TaskEither<StoreError, number> = () => new Promise(() => undefined)
  assert.equal(await limit(hung)(), E.left({ _tag: 'TimedOut', operation: 'SCAN', ms: 20 }))
  const off = { operationTimeoutMs: 0 }
  assert.is(withPageDeadlines(off), off)
})

pages.run()
