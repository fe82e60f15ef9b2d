import * as E from 'fp-ts/lib/Either'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ScriptArgs } from '../../src/client/contract'
import { attempt, isWrongType, runScript, tryCommand, tryStringCommand, type Script } from '../../src/client/run'
import { commandFailed, type StoreError } from '../../src/errors'
import { runLeft, runRight } from '../helpers'

const wrongType = () => new Error('WRONGTYPE Operation against a key holding the wrong kind of value')
const noScript = () => new Error('NOSCRIPT No matching script. Please use EVAL.')

// --- attempt

const attempts = suite('attempt')

attempts('hands back the promise of the call as it is', async () => {
  const p = Promise.resolve(1)
  assert.is(
    attempt(() => p),
    p
  )
})

attempts('turns a synchronous throw into a rejection with the same error', async () => {
  const boom = new Error('thrown, not rejected')
  let result: unknown
  const p = attempt((): Promise<never> => {
    throw boom
  })
  assert.instance(p, Promise)
  await p.then(
    () => assert.unreachable('should reject'),
    (e: unknown) => (result = e)
  )
  assert.is(result, boom)
})

attempts.run()

// --- tryCommand

const command = suite('tryCommand')

command('a reply is a Right', async () => {
  assert.equal(await runRight(tryCommand('GET', 'k', async () => 'v')), 'v')
})

command('a rejection is a CommandFailed naming the command and key, with the cause', async () => {
  const boom = new Error('ECONNRESET')
  assert.equal(
    await runLeft(tryCommand('GET', 'sessions:k', () => Promise.reject(boom))),
    commandFailed('GET', 'sessions:k', boom)
  )
})

command('a synchronous throw is a CommandFailed too, never a throw', async () => {
  const boom = new TypeError('client.get is not a function')
  const task = tryCommand('GET', 'k', (): Promise<string> => {
    throw boom
  })
  assert.equal(await runLeft(task), commandFailed('GET', 'k', boom))
})

command('the call is made when the task runs, once per run', async () => {
  let calls = 0
  const task = tryCommand('GET', 'k', async () => ++calls)
  assert.is(calls, 0)
  assert.is(await runRight(task), 1)
  assert.is(await runRight(task), 2)
})

command.run()

// --- tryStringCommand

const stringCommand = suite('tryStringCommand')

const handlers = (seen: Array<string>) => ({
  onReply: (reply: string | null): E.Either<StoreError, string> => {
    seen.push(`reply ${String(reply)}`)
    return E.right(`got ${String(reply)}`)
  },
  onTombstone: (): E.Either<StoreError, string> => {
    seen.push('tombstone')
    return E.right('tombstone')
  }
})

stringCommand('a reply goes to onReply, whose Either is the result', async () => {
  const seen: Array<string> = []
  assert.is(await runRight(tryStringCommand('GET', 'k', async () => 'v', handlers(seen))), 'got v')
  assert.is(await runRight(tryStringCommand('GET', 'k', async () => null, handlers(seen))), 'got null')
  assert.equal(seen, ['reply v', 'reply null'])
  const refused = commandFailed('GET', 'k', 'no')
  assert.is(
    await runLeft(
      tryStringCommand('GET', 'k', async () => 'v', { onReply: () => E.left(refused), onTombstone: () => E.right(0) })
    ),
    refused
  )
})

stringCommand('WRONGTYPE (the key holds a tombstone) goes to onTombstone, rejected or thrown', async () => {
  const seen: Array<string> = []
  assert.is(
    await runRight(tryStringCommand('SET', 'k', () => Promise.reject(wrongType()), handlers(seen))),
    'tombstone'
  )
  const thrown = (): Promise<string> => {
    throw wrongType()
  }
  assert.is(await runRight(tryStringCommand('SET', 'k', thrown, handlers(seen))), 'tombstone')
  assert.equal(seen, ['tombstone', 'tombstone'])
})

stringCommand('a reply that is neither a string nor null is a CommandFailed saying what came back', async () => {
  const seen: Array<string> = []
  const cases: ReadonlyArray<readonly [unknown, string]> = [
    [42, 'number 42'],
    [undefined, 'undefined'],
    [['v'], 'an array of 1'],
    [{}, 'an object'],
    [Buffer.from('v'), 'a Buffer of 1 bytes']
  ]
  for (const [reply, shown] of cases) {
    const failed = await runLeft(tryStringCommand('GET', 'sessions:k', async () => reply, handlers(seen)))
    assert.ok(failed._tag === 'CommandFailed' && failed.command === 'GET' && failed.key === 'sessions:k')
    const cause = (failed as { readonly cause: unknown }).cause
    assert.instance(cause, TypeError)
    assert.is((cause as TypeError).message, `unexpected reply to GET: ${shown}, not a string or null`)
  }
  assert.equal(seen, [])
})

stringCommand('any other failure is a CommandFailed; neither handler is called', async () => {
  const seen: Array<string> = []
  const readonly = new Error("READONLY You can't write against a read only replica.")
  assert.equal(
    await runLeft(tryStringCommand('SET', 'sessions:k', () => Promise.reject(readonly), handlers(seen))),
    commandFailed('SET', 'sessions:k', readonly)
  )
  // Not an Error at all: still a CommandFailed with what was thrown as the cause.
  assert.equal(
    await runLeft(tryStringCommand('GETEX', 'k', () => Promise.reject('gone'), handlers(seen))),
    commandFailed('GETEX', 'k', 'gone')
  )
  assert.equal(seen, [])
})

stringCommand('isWrongType: only a message starting with WRONGTYPE', () => {
  assert.is(isWrongType(wrongType()), true)
  assert.is(isWrongType('WRONGTYPE as a string'), true)
  assert.is(isWrongType(new Error('ERR WRONGTYPE somewhere inside')), false)
  assert.is(isWrongType(new Error('wrongtype')), false)
  assert.is(isWrongType(undefined), false)
})

stringCommand('a client that rejects with what cannot be printed is read, never thrown over', async () => {
  // `String({ toString: false })` throws: the classifiers must not, or the rejection escapes the TaskEither.
  const unprintable = { toString: false }
  const message = Object.assign(new Error('x'), { message: unprintable })
  for (const cause of [unprintable, message, Object.create(null) as object]) {
    assert.is(isWrongType(cause), false)
    assert.equal(
      await runLeft(tryStringCommand('GET', 'k', () => Promise.reject(cause), handlers([]))),
      commandFailed('GET', 'k', cause)
    )
  }
})

stringCommand.run()

// --- runScript

const script: Script = { source: 'return 1', sha1: 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db' }

/** A client whose EVALSHA and EVAL answer with the given functions, logging each call. */
const scriptClient = (
  evalSha: () => Promise<unknown>,
  evalScript: () => Promise<unknown> = async () => 'from EVAL'
) => {
  const calls: Array<readonly [string, string, ScriptArgs]> = []
  return {
    calls,
    evalSha: (sha1: string, args: ScriptArgs) => {
      calls.push(['EVALSHA', sha1, args])
      return evalSha()
    },
    eval: (source: string, args: ScriptArgs) => {
      calls.push(['EVAL', source, args])
      return evalScript()
    }
  }
}
const args: ScriptArgs = { keys: ['sessions:a', 'sessions:b'], arguments: ['1', '2'] }

const scripts = suite('runScript')

scripts('one EVALSHA with the script sha1 and the keys and arguments; its reply is the result', async () => {
  const client = scriptClient(async () => 7)
  assert.is(await runRight(runScript(client, script)(args)), 7)
  assert.equal(client.calls, [['EVALSHA', script.sha1, args]])
})

scripts('NOSCRIPT falls back to one EVAL of the source, with the same keys and arguments', async () => {
  const client = scriptClient(() => Promise.reject(noScript()))
  assert.is(await runRight(runScript(client, script)(args)), 'from EVAL')
  assert.equal(client.calls, [
    ['EVALSHA', script.sha1, args],
    ['EVAL', script.source, args]
  ])
})

scripts('a NOSCRIPT thrown synchronously falls back too', async () => {
  const client = scriptClient(() => {
    throw noScript()
  })
  assert.is(await runRight(runScript(client, script)(args)), 'from EVAL')
  assert.equal(
    client.calls.map((c) => c[0]),
    ['EVALSHA', 'EVAL']
  )
})

scripts('any other EVALSHA failure is a CommandFailed naming EVALSHA and the first key; no EVAL is sent', async () => {
  const oom = new Error('OOM command not allowed when used memory > maxmemory')
  const client = scriptClient(() => Promise.reject(oom))
  assert.equal(await runLeft(runScript(client, script)(args)), commandFailed('EVALSHA', 'sessions:a', oom))
  assert.equal(
    client.calls.map((c) => c[0]),
    ['EVALSHA']
  )
  const thrown = new TypeError('evalSha is broken')
  const throwing = scriptClient(() => {
    throw thrown
  })
  assert.equal(await runLeft(runScript(throwing, script)(args)), commandFailed('EVALSHA', 'sessions:a', thrown))
})

scripts('a failing EVAL after NOSCRIPT is a CommandFailed naming EVAL', async () => {
  const denied = new Error("NOPERM this user has no permissions to run the 'eval' command")
  const client = scriptClient(
    () => Promise.reject(noScript()),
    () => Promise.reject(denied)
  )
  assert.equal(await runLeft(runScript(client, script)(args)), commandFailed('EVAL', 'sessions:a', denied))
})

scripts('without keys the error names the empty key', async () => {
  const boom = new Error('boom')
  const client = scriptClient(() => Promise.reject(boom))
  assert.equal(
    await runLeft(runScript(client, script)({ keys: [], arguments: [] })),
    commandFailed('EVALSHA', '', boom)
  )
})

scripts('every run sends EVALSHA first again (the fallback is per call, nothing is remembered)', async () => {
  let flushed = true
  const client = scriptClient(() => (flushed ? Promise.reject(noScript()) : Promise.resolve('cached')))
  const run = runScript(client, script)
  assert.is(await runRight(run(args)), 'from EVAL')
  flushed = false
  assert.is(await runRight(run(args)), 'cached')
  assert.equal(
    client.calls.map((c) => c[0]),
    ['EVALSHA', 'EVAL', 'EVALSHA']
  )
})

scripts.run()
