import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { commandFailed, type StoreError } from '../../src/errors'
import { timeLimit } from '../../src/operations/deadline'
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
