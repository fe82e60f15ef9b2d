// Every js/ts code block of README.md and of the guides under docs/, run as written against the packed tarball
// (spec/support/pack.ts) with a real redis-server; and every relative link of those files resolves. The fence conventions are in spec/support/readme.ts: `js` blocks run as .cjs or
// .mjs; `ts` blocks are type-checked (strict) and run both as CommonJS (.ts) and as ESM (.mts), or as ESM
// only with the word `esm`; `app` blocks are servers (PORT given, probed, then stopped); `name:<id>` picks a
// probe; `test` blocks are uvu test files that must report at least one test, all passed. Each run has
// cwd = the consumer project and REDIS_URL = a redis-server flushed before it.
import { appendFileSync, mkdirSync, writeFileSync } from 'fs'
import { join } from 'path'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { rethrowSetupError } from './helpers'
import { makeCompiler, type Compiler } from './support/compile'
import { requestText } from './support/http'
import { installPacked, node } from './support/pack'
import {
  brokenLinks,
  firstLine,
  kindOf,
  LOOPBACK_PRELOAD,
  numbered,
  readDocs,
  startApp,
  unexpectedStderr,
  uvuProblem,
  type AppProcess,
  type Block
} from './support/readme'
import { freePort, startRedis, type RedisServer } from './support/redis-server'

/**
 * At least this many js/ts blocks in the README and docs/ together (their count when this was written: lower
 * it when blocks go on purpose), so a parser regression cannot silently run nothing.
 */
const MIN_RUNNABLE = 20
const RUN_TIMEOUT_MS = 20_000
const LISTEN_TIMEOUT_MS = 15_000
const PROBE_TIMEOUT_MS = 10_000

const json = (what: string, text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`${what} answered ${JSON.stringify(text.slice(0, 300))}, not JSON`)
  }
}

/** Two requests of one browser: views 1, then views 2 with the cookie of the first. */
const viewsTwice = async (port: number): Promise<void> => {
  const first = await requestText(port, 'GET', '/', undefined, PROBE_TIMEOUT_MS)
  assert.is(first.status, 200, `GET / answered ${first.status}: ${first.text}`)
  assert.ok(first.text.includes('Views: 1'), `GET / answered "${first.text}", want "Views: 1"`)
  assert.ok(first.cookie !== undefined, 'GET / set no cookie')
  const second = await requestText(port, 'GET', '/', first.cookie, PROBE_TIMEOUT_MS)
  assert.is(second.status, 200, `GET / with the cookie answered ${second.status}: ${second.text}`)
  assert.ok(second.text.includes('Views: 2'), `GET / with the cookie answered "${second.text}", want "Views: 2"`)
}

/** Checks of `app` blocks by `name:<id>`, after "starts and listens"; each throws on a failure. */
const probes: Record<string, (port: number) => Promise<void>> = {
  'quick-start': viewsTwice,
  'valkey-glide': viewsTwice,
  login: async (port) => {
    const login = await requestText(port, 'POST', '/login?user=alice', undefined, PROBE_TIMEOUT_MS)
    assert.is(login.status, 200, `POST /login answered ${login.status}: ${login.text}`)
    assert.equal(json('POST /login', login.text), { user: 'alice' }, 'POST /login')
    assert.ok(login.cookie !== undefined, 'POST /login set no cookie')
    const logout = await requestText(port, 'POST', '/logout', login.cookie, PROBE_TIMEOUT_MS)
    assert.is(logout.status, 200, `POST /logout answered ${logout.status}: ${logout.text}`)
    assert.equal(json('POST /logout', logout.text), { loggedOut: true }, 'POST /logout')
  }
}

const docs = readDocs()
const blocks = docs.flatMap((d) => d.parsed.blocks)
const runnable = blocks.filter((b) => kindOf(b) !== undefined)

interface State {
  /** uvu drops an error thrown by a before hook without a word, so the hook keeps it here for every test. */
  setupError?: unknown
  consumer: string
  dir: string
  preload: string
  redis?: RedisServer
  admin?: ReturnType<typeof createClient>
  compiler: Compiler
  started: number
  /** Per block: `file:line seconds`. */
  timings: Array<string>
  /** Per file: how many of its blocks ran, and how many of them failed. */
  ran: Map<string, { ran: number; failed: number }>
}

const readme = suite<State>('README and docs/ code blocks, run against the packed tarball')

readme.before(async (state) => {
  state.started = Date.now()
  state.timings = []
  state.ran = new Map()
  try {
    const packed = await installPacked()
    state.consumer = packed.consumer
    state.dir = join(packed.consumer, 'readme')
    mkdirSync(state.dir, { recursive: true })
    state.preload = join(state.dir, 'loopback.cjs')
    writeFileSync(state.preload, LOOPBACK_PRELOAD)
    state.redis = await startRedis()
    state.admin = createClient({ url: state.redis.url, socket: { reconnectStrategy: false } })
    state.admin.on('error', () => undefined)
    await state.admin.connect()
    state.compiler = makeCompiler(state.consumer)
  } catch (err) {
    state.setupError = err
  }
})

readme.before.each((state) => {
  rethrowSetupError(state.setupError)
})

readme.after(async (state) => {
  if (state.admin?.isOpen === true) state.admin.destroy()
  await state.redis?.stop()
  const ran = [...state.ran].map(([file, n]) => `${file} ${n.ran}${n.failed > 0 ? ` (${n.failed} failed)` : ''}`)
  const total = [...state.ran.values()].reduce((sum, n) => sum + n.ran, 0)
  console.log(`  (readme spec: ${total} blocks ran of ${runnable.length}: ${ran.join(', ')})`)
  console.log(
    `  (readme spec: ${((Date.now() - state.started) / 1000).toFixed(
      1
    )} s with the shared pack + install; ${state.timings.join(', ')})`
  )
})

readme(
  `README.md and docs/ have at least ${MIN_RUNNABLE} js/ts blocks, every fence closed, and one block named quick-start (README.md, flagged app)`,
  () => {
    assert.ok(docs.length > 1, `no guide found under docs/: ${docs.map((d) => d.file).join(', ')}`)
    assert.equal(
      docs.flatMap((d) => d.parsed.unclosed.map((line) => `${d.file}:${line}`)),
      [],
      'fences left open at these lines'
    )
    assert.ok(
      runnable.length >= MIN_RUNNABLE,
      `${runnable.length} js/ts blocks found: ${runnable.map((b) => `${b.file}:${b.line} ${b.lang}`).join(', ')}`
    )
    const quick = blocks.filter((b) => b.name === 'quick-start')
    assert.is(quick.length, 1, 'one block has the word name:quick-start')
    assert.ok(
      quick[0]?.file === 'README.md' && quick[0].app && kindOf(quick[0]) !== undefined,
      'the quick-start block is a js/ts block of README.md with the word app'
    )
    const names = blocks.flatMap((b) => (b.name === undefined ? [] : [b.name]))
    assert.equal(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
      'block names used twice'
    )
  }
)

readme('every relative link of README.md and docs/ points at an existing file, and at an existing heading', () => {
  assert.equal(
    docs.flatMap((d) => brokenLinks(d.file)),
    []
  )
})

/** One way to run a block: the file to run, and for TypeScript the file to compile first. */
interface Variant {
  readonly label: string
  readonly source: string
}

const variants = (block: Block, dir: string): Array<Variant> => {
  const base = join(dir, `block-${block.file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')}-${block.line}`)
  switch (kindOf(block)) {
    case 'cjs':
      return [{ label: 'CommonJS', source: `${base}.cjs` }]
    case 'mjs':
      return [{ label: 'ESM', source: `${base}.mjs` }]
    case 'ts':
      return block.esm
        ? [{ label: 'TS as ESM', source: `${base}.mts` }]
        : [
            { label: 'TS as CommonJS', source: `${base}.ts` },
            { label: 'TS as ESM', source: `${base}.mts` }
          ]
    default:
      return []
  }
}

/** `readme/block-F-L.ts(row,col)` in compiler messages → `<file>:<line>:col (block-F-L.ts)`. */
const readmeLines = (block: Block, diagnostics: string): string =>
  diagnostics.replace(
    /(?:[^\s()]*\/)?(block-[\w-]*\d+\.m?ts)\((\d+),(\d+)\)/g,
    (_m, file: string, row: string, col: string) => `${block.file}:${block.line + Number(row)}:${col} (${file})`
  )

/** Compiles (TypeScript) and runs one variant; the reason it failed, or undefined. */
const runVariant = async (state: State, block: Block, v: Variant): Promise<string | undefined> => {
  writeFileSync(v.source, block.source)
  let file = v.source
  if (/\.m?ts$/.test(v.source)) {
    const c = state.compiler.compile(v.source)
    if (c.output === undefined) return `does not compile:\n${readmeLines(block, c.diagnostics) || '(emit skipped)'}`
    file = c.output
    // Load every module the block imports for its values, also when TypeScript dropped the import.
    const load = (m: string): string =>
      file.endsWith('.mjs') ? `import ${JSON.stringify(m)}` : `require(${JSON.stringify(m)})`
    if (c.valueImports.length > 0) appendFileSync(file, `\n${c.valueImports.map(load).join('\n')}\n`)
  }
  // Each run starts from an empty Redis: blocks (and the two runs of a ts block) never see each other's data.
  await state.admin?.flushAll()
  const url = state.redis?.url ?? ''
  if (!block.app) {
    const r = await node(['--require', state.preload, file], state.consumer, RUN_TIMEOUT_MS, { REDIS_URL: url })
    const stray = unexpectedStderr(r.stderr)
    const uvu = block.test && r.code === 0 ? uvuProblem(r.stdout) : undefined
    if (uvu !== undefined) return `${uvu}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`
    if (r.code === 0 && stray === '') return undefined
    const why =
      r.code === null
        ? `did not exit 0 within ${RUN_TIMEOUT_MS / 1000} s`
        : r.code !== 0
        ? `exited with ${r.code}`
        : 'printed on stderr'
    return `${why}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`
  }
  const port = await freePort()
  let app: AppProcess
  try {
    app = await startApp(file, state.consumer, state.preload, port, { REDIS_URL: url }, LISTEN_TIMEOUT_MS)
  } catch (e) {
    return (e as Error).message
  }
  let failure: string | undefined
  try {
    const probe = block.name === undefined ? undefined : probes[block.name]
    if (probe !== undefined) await probe(port)
    if (!app.alive()) failure = `the app exited (${await app.exited}) during the probe`
  } catch (e) {
    failure = `probe ${block.name ?? ''} failed: ${(e as Error).message}`
  }
  const how = await app.stop()
  return failure === undefined
    ? undefined
    : `${failure} (stopped: ${how})\n--- stdout\n${app.stdout().slice(-4000)}\n--- stderr\n${app.stderr().slice(-4000)}`
}

readme('uvuProblem: a test block passes only with a uvu summary of at least one test, all passed', () => {
  const summary = (total: number, passed: number) =>
    `  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   0\n  Duration:  12.34ms\n`
  assert.is(uvuProblem(`• •   (2 / 2)\n\n${summary(2, 2)}`), undefined)
  assert.is(uvuProblem(summary(2, 1)), 'passed 1 of 2 tests')
  assert.is(uvuProblem(summary(0, 0)), 'ran no test')
  assert.is(uvuProblem('hello\n'), 'printed no uvu summary (Total / Passed)')
})

readme('the "Testing your app without Redis" example is a uvu test file (word test) on the in-memory client', () => {
  const tests = blocks.filter((b) => b.name === 'testing-without-redis')
  assert.is(tests.length, 1, 'one block has the word name:testing-without-redis')
  const block = tests[0] as Block
  assert.ok(block.test && kindOf(block) === 'ts', 'a ts block with the word test')
  assert.match(block.source, "from 'connect-redis-session/memory'")
  assert.match(block.source, /client\.clock\.advance\(/)
  assert.match(block.source, /await fetch\(/)
})

for (const block of runnable) {
  const flags = [
    block.lang,
    ...(block.app ? ['app'] : []),
    ...(block.test ? ['test'] : []),
    ...(block.esm ? ['esm'] : [])
  ].join(', ')
  readme(`${block.file}:${block.line} ${block.name ?? firstLine(block)} (${flags})`, async (state) => {
    const started = Date.now()
    const failures: Array<string> = []
    for (const v of variants(block, state.dir)) {
      const why = await runVariant(state, block, v)
      if (why !== undefined) failures.push(`[${v.label}] ${why}`)
    }
    state.timings.push(`${block.file}:${block.line} ${((Date.now() - started) / 1000).toFixed(1)} s`)
    const count = state.ran.get(block.file) ?? { ran: 0, failed: 0 }
    state.ran.set(block.file, { ran: count.ran + 1, failed: count.failed + (failures.length > 0 ? 1 : 0) })
    if (failures.length > 0) {
      // No stack: uvu would print the message's lines again after its first line.
      const failure = new Error(
        `${block.file}:${block.line} (${flags})\n${numbered(block)}\n\n${failures.join('\n\n')}`
      )
      failure.stack = `${block.file}:${block.line}`
      throw failure
    }
  })
}

readme.run()
