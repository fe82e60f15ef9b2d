// examples/demo.js, the `npm run demo` app, run as a user would: its DEMO_SELFTEST=1 mode (with its own
// throwaway redis-server, and with REDIS_URL), its interactive mode until SIGTERM, and its message when
// redis-server is missing. Needs dist/ (npm test builds it before running the specs).
import { spawn } from 'child_process'
import { existsSync, mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join, resolve } from 'path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startRedis } from './support/redis-server'

const root = resolve(__dirname, '..', '..')
const demo = join(root, 'examples', 'demo.js')
const STEP_TIMEOUT_MS = 30_000

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * The environment of a demo run: none of the caller's REDIS_URL / PORT / DEMO_SELFTEST, nor the runner's
 * FORCE_COLOR + NO_COLOR pair (node warns on stderr when both are set), then `extra`.
 */
const demoEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of ['REDIS_URL', 'PORT', 'DEMO_SELFTEST', 'SESSION_SECRET', 'FORCE_COLOR', 'NO_COLOR'])
    delete env[name]
  return { ...env, ...extra }
}

/**
 * Runs the demo. `onStdout` sees the output so far and may return a promise of something to do (then the
 * process is expected to end). Always bounded: SIGTERM at STEP_TIMEOUT_MS, SIGKILL 3 s later.
 */
const runDemo = (env: NodeJS.ProcessEnv, onStdout?: (out: string, pid: number) => void): Promise<Run> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, [demo], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (onStdout && child.pid !== undefined) onStdout(stdout, child.pid)
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const term = setTimeout(() => {
      stderr += `\n[spec] demo still running after ${STEP_TIMEOUT_MS} ms: SIGTERM`
      child.kill('SIGTERM')
    }, STEP_TIMEOUT_MS)
    const kill = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS + 3000)
    child.once('error', fail)
    child.once('close', (code, signal) => {
      clearTimeout(term)
      clearTimeout(kill)
      done({ code, signal, stdout, stderr })
    })
  })

const show = (r: Run): string => `exit ${r.code ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** The redis-server PID the demo printed, or undefined when it used REDIS_URL. */
const redisPid = (out: string): number | undefined => {
  const m = /redis: started redis-server pid (\d+) on redis:\/\/127\.0\.0\.1:\d+/.exec(out)
  return m ? Number(m[1]) : undefined
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The `selftest: METHOD ROUTE -> STATUS BODY` lines, parsed. */
const selftestSteps = (out: string): Array<{ request: string; status: number; body: Record<string, unknown> }> =>
  [...out.matchAll(/^selftest: ((?:GET|POST) \S+) -> (\d{3}) (.*)$/gm)].map((m) => ({
    request: m[1] ?? '',
    status: Number(m[2]),
    body: JSON.parse(m[3] ?? 'null') as Record<string, unknown>
  }))

const assertSelftestOutput = (r: Run): void => {
  assert.is(r.code, 0, show(r))
  assert.match(r.stdout, /^selftest: ok$/m, show(r))
  assert.not.match(r.stdout, /FAILED/, show(r))
  const steps = selftestSteps(r.stdout)
  assert.equal(
    steps.map((s) => `${s.request} ${s.status}`),
    [
      'GET / 200',
      'POST /login?user=alice 200',
      'GET / 200',
      'GET / 200',
      'GET /sessions 200',
      'POST /logout 200',
      'GET /sessions 200',
      'POST /login 400'
    ],
    show(r)
  )
  const [first, login, view1, view2, listed, logout, after] = steps.map((s) => s.body)
  assert.equal([first?.['views'], first?.['user']], [1, null])
  assert.is(login?.['loggedIn'], 'alice')
  const sid = login?.['sessionId']
  assert.type(sid, 'string')
  assert.is.not(sid, first?.['sessionId'], 'login regenerates the session id')
  assert.equal([view1?.['sessionId'], view1?.['user'], view1?.['views']], [sid, 'alice', 1])
  assert.equal([view2?.['sessionId'], view2?.['user'], view2?.['views']], [sid, 'alice', 2])
  assert.is(listed?.['length'], 1)
  const sessions = listed?.['sessions'] as Record<string, { user?: string; views?: number }>
  assert.equal(Object.keys(sessions), [sid as string])
  assert.equal([sessions[sid as string]?.user, sessions[sid as string]?.views], ['alice', 2])
  assert.equal([logout?.['loggedOut'], logout?.['destroyed']], ['alice', sid])
  assert.equal([after?.['length'], after?.['sessions']], [0, {}])
}

// A before.each, not a before: uvu drops an error thrown by a before hook without a word.
test.before.each(() => {
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js is missing: run npm run build (npm test does)')
})

test('DEMO_SELFTEST=1 starts its own redis-server, logs in, views, logs out, exits 0 and stops redis', async () => {
  const r = await runDemo(demoEnv({ DEMO_SELFTEST: '1' }))
  assertSelftestOutput(r)
  const pid = redisPid(r.stdout)
  assert.ok(pid !== undefined, `no "started redis-server pid" line\n${show(r)}`)
  assert.not.ok(isAlive(pid as number), `redis-server ${pid} still runs after the demo exited`)
  assert.is(r.stderr.trim(), '', show(r))
})

test('DEMO_SELFTEST=1 with REDIS_URL uses that Redis and starts none', async () => {
  const redis = await startRedis()
  try {
    const r = await runDemo(demoEnv({ DEMO_SELFTEST: '1', REDIS_URL: redis.url }))
    assertSelftestOutput(r)
    assert.ok(r.stdout.includes(`redis: ${redis.url} (REDIS_URL)`), show(r))
    assert.is(redisPid(r.stdout), undefined, show(r))
    assert.ok(isAlive(redis.pid), 'the demo must not stop a Redis it did not start')
  } finally {
    await redis.stop()
  }
})

test('interactive mode prints the URL and curl examples, serves GET /, and stops redis on SIGTERM', async () => {
  type Served = { status: number; body: unknown }
  const state: { served?: Promise<Served> } = {}
  const r = await runDemo(demoEnv({ PORT: '0' }), (out, pid) => {
    const url = /demo on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
    if (state.served || url === undefined || !out.includes('Ctrl-C to stop')) return
    state.served = fetch(`${url}/`)
      .then(async (res): Promise<Served> => ({ status: res.status, body: (await res.json()) as unknown }))
      .finally(() => process.kill(pid, 'SIGTERM'))
    state.served.catch(() => undefined) // awaited below, after the demo exits
  })
  assert.ok(state.served, `the demo never printed its URL\n${show(r)}`)
  const got = await (state.served as Promise<Served>)
  assert.is(got.status, 200)
  assert.equal((got.body as Record<string, unknown>)['views'], 1)
  assert.is(r.code, 0, show(r))
  assert.match(r.stdout, /curl -b jar -c jar -X POST 'http:\/\/127\.0\.0\.1:\d+\/login\?user=alice'/)
  assert.match(r.stdout, /curl -b jar -c jar http:\/\/127\.0\.0\.1:\d+\/sessions/)
  const pid = redisPid(r.stdout)
  assert.ok(pid !== undefined, show(r))
  assert.not.ok(isAlive(pid as number), `redis-server ${pid} still runs after SIGTERM`)
})

test('without redis-server on the PATH and no REDIS_URL it prints one instruction line and exits 1', async () => {
  const emptyBin = mkdtempSync(join(tmpdir(), 'crs-no-redis-'))
  try {
    const r = await runDemo(demoEnv({ DEMO_SELFTEST: '1', PATH: emptyBin }))
    assert.is(r.code, 1, show(r))
    const lines = r.stderr.trim().split('\n')
    assert.is(lines.length, 1, show(r))
    assert.match(lines[0] ?? '', /^redis-server not found: install it .*REDIS_URL/, show(r))
    assert.not.match(r.stdout, /selftest/, show(r))
  } finally {
    rmSync(emptyBin, { recursive: true, force: true })
  }
})

test.run()
