// Every js/ts code block of README.md and of the guides under docs/, run as written against the packed tarball
// (spec/support/pack.ts) with a real redis-server; and every relative link of those files resolves. The fence conventions are in spec/support/readme.ts: `js` blocks run as .cjs or
// .mjs; `ts` blocks are type-checked (strict) and run both as CommonJS (.ts) and as ESM (.mts), or as ESM
// only with the word `esm`; `app` blocks are servers (PORT given, probed, then stopped); `name:<id>` picks a
// probe; `test` blocks are uvu test files that must report at least one test, all passed. Each run has
// cwd = the consumer project and REDIS_URL = a redis-server flushed before it. The blocks of a file with an
// install line (an `sh install` block: the framework guides) run in a consumer of their own holding the
// tarball and exactly the packages that line names, and compile with `skipLibCheck: false`.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'fs'
import { join } from 'path'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { rethrowSetupError } from './helpers'
import { makeCompiler, type Compiler } from './support/compile'
import { requestText } from './support/http'
import { installConsumer, installPacked, NAME, node } from './support/pack'
import {
  brokenLinks,
  firstLine,
  installBlock,
  installedPackages,
  kindOf,
  LOOPBACK_PRELOAD,
  numbered,
  readDocs,
  startApp,
  unexpectedStderr,
  uvuProblem,
  type AppProcess,
  type Block,
  type Parsed
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

/** What a probe gets: the app's port, and the redis-server the app uses (its PID, and a client on it). */
interface Probed {
  readonly port: number
  readonly redisPid: number
  readonly admin: ReturnType<typeof createClient>
}

/** GET / answers 200 with `Views: <views>` (a session that counts), sending `cookie`; the cookie it set. */
const views = async (port: number, cookie: string | undefined, n: number): Promise<string | undefined> => {
  const r = await requestText(port, 'GET', '/', cookie, PROBE_TIMEOUT_MS)
  const how = `GET /${cookie === undefined ? '' : ' with the cookie'}`
  assert.is(r.status, 200, `${how} answered ${r.status}: ${r.text}`)
  assert.ok(r.text.includes(`Views: ${n}`), `${how} answered "${r.text}", want "Views: ${n}"`)
  return r.cookie
}

/** Two requests of one session: the first sets a cookie, the second counts on. The cookie. */
const sessionRoundTrip = async (port: number): Promise<string> => {
  const cookie = await views(port, undefined, 1)
  assert.ok(cookie !== undefined, 'GET / set no cookie')
  await views(port, cookie, 2)
  return cookie
}

/** The answer is `status` with a JSON body whose `code` is the store error's. */
const coded = (what: string, r: { status: number; text: string }, status: number, code: string): void => {
  assert.is(r.status, status, `${what} answered ${r.status}: ${r.text}`)
  assert.is((json(what, r.text) as { code?: unknown }).code, code, `${what}: the body's code`)
}

/**
 * The session round trip, then Redis hung (SIGSTOP) under a request of that session: the store's deadline (2 s)
 * ends its load with ETIMEDOUT, which the app answers 503 with the code, as the README recommends; once Redis
 * runs again the same session counts on.
 */
const roundTripAndHungRedis = async ({ port, redisPid }: Probed): Promise<void> => {
  const cookie = await sessionRoundTrip(port)
  process.kill(redisPid, 'SIGSTOP')
  let hung: Awaited<ReturnType<typeof requestText>>
  try {
    hung = await requestText(port, 'GET', '/', cookie, PROBE_TIMEOUT_MS)
  } finally {
    process.kill(redisPid, 'SIGCONT')
  }
  coded('GET / with the cookie while Redis is hung', hung, 503, 'ETIMEDOUT')
  await views(port, cookie, 3)
}

/** Calls Redis refused (`rejected_calls` of INFO commandstats, over every command). */
const rejectedCalls = async (admin: Probed['admin']): Promise<number> =>
  [...(await admin.info('commandstats')).matchAll(/rejected_calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)

/** Checks of `app` blocks by `name:<id>`, after "starts and listens"; each throws on a failure. */
const probes: Record<string, (probed: Probed) => Promise<void>> = {
  'quick-start': async ({ port }) => {
    await sessionRoundTrip(port)
  },
  // Valkey GLIDE: Redis hung fails the request on GLIDE's own requestTimeout (250 ms), before the store's deadline.
  'valkey-glide': async ({ port, redisPid }) => {
    const cookie = await sessionRoundTrip(port)
    process.kill(redisPid, 'SIGSTOP')
    const started = Date.now()
    let hung: Awaited<ReturnType<typeof requestText>>
    try {
      hung = await requestText(port, 'GET', '/', cookie, PROBE_TIMEOUT_MS)
    } finally {
      process.kill(redisPid, 'SIGCONT')
    }
    const ms = Date.now() - started
    assert.is(hung.status, 503, `GET / while Redis is hung answered ${hung.status}: ${hung.text}`)
    assert.ok(hung.text.includes('ESESSION_REDIS'), `GET / while Redis is hung answered "${hung.text}"`)
    assert.ok(ms < 1_500, `answered in ${ms} ms: GLIDE's 250 ms timeout, not the store's 2 s deadline`)
    await views(port, cookie, 3)
  },
  nestjs: roundTripAndHungRedis,
  // docs/observability.md: prom-client counters from the TracingChannel and the lifecycle events.
  metrics: async ({ port }) => {
    const cookie = await sessionRoundTrip(port)
    await views(port, cookie, 3)
    const out = await requestText(port, 'POST', '/logout', cookie, PROBE_TIMEOUT_MS)
    assert.is(out.status, 200, `POST /logout answered ${out.status}: ${out.text}`)
    // The old cookie after the logout: its session is a tombstone, and a new one starts.
    await views(port, cookie, 1)
    const metrics = await requestText(port, 'GET', '/metrics', undefined, PROBE_TIMEOUT_MS)
    for (const line of [
      'session_store_operations_total{operation="set",outcome="written"} 4',
      'session_store_operations_total{operation="get",outcome="hit"} 3',
      'session_store_operations_total{operation="destroy",outcome="destroyed"} 1',
      'session_store_operations_total{operation="get",outcome="tombstoned"} 1',
      'sessions_total{event="created"} 2',
      'sessions_total{event="destroyed"} 1'
    ])
      assert.ok(metrics.text.split('\n').includes(line), `GET /metrics has "${line}":\n${metrics.text}`)
    assert.match(metrics.text, /session_store_operation_seconds_count\{operation="get"\} 4/)
  },
  fastify: async (probed) => {
    await roundTripAndHungRedis(probed)
    // A save Redis refuses (OOM): answered 503 by the error handler, and tried once — an error reply that went
    // through @fastify/session's onSend hook would save again.
    await probed.admin.configSet('maxmemory', '1')
    try {
      const before = await rejectedCalls(probed.admin)
      coded(
        'GET / while Redis refuses writes',
        await requestText(probed.port, 'GET', '/', undefined, PROBE_TIMEOUT_MS),
        503,
        'ESESSION_REDIS'
      )
      assert.is(
        (await rejectedCalls(probed.admin)) - before,
        1,
        'Redis refused one write: the failed save was not retried'
      )
    } finally {
      await probed.admin.configSet('maxmemory', '0')
    }
  },
  login: async ({ port }) => {
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

/** The files with an install line, and the packages it names (parsed here: a malformed line fails the load). */
const installLines = new Map(
  docs.flatMap(({ file, parsed }: { file: string; parsed: Parsed }) => {
    const line = installBlock(parsed)
    return line === undefined ? [] : [[file, installedPackages(line)] as const]
  })
)

interface State {
  /** uvu drops an error thrown by a before hook without a word, so the hook keeps it here for every test. */
  setupError?: unknown
  consumer: string
  preload: string
  redis?: RedisServer
  admin?: ReturnType<typeof createClient>
  /** Per file with an install line: its consumer project, installed while the blocks before it run. */
  installs: Map<string, Promise<{ readonly consumer: string; readonly ms: number }>>
  /** Per consumer project and decorators or not. */
  compilers: Map<string, Compiler>
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
    state.installs = new Map()
    state.compilers = new Map()
    const packed = await installPacked()
    state.consumer = packed.consumer
    // Not awaited here: each runs beside the blocks before its file's, which await it (and report its failure).
    for (const [file, names] of installLines) {
      const installed = installConsumer(slug(file), names)
      installed.catch(() => undefined)
      state.installs.set(file, installed)
    }
    state.preload = join(packed.consumer, 'loopback.cjs')
    writeFileSync(state.preload, LOOPBACK_PRELOAD)
    state.redis = await startRedis()
    state.admin = createClient({ url: state.redis.url, socket: { reconnectStrategy: false } })
    state.admin.on('error', () => undefined)
    await state.admin.connect()
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

/** A Markdown file's name in file names: `docs/testing.md` → `docs-testing`. */
const slug = (file: string): string => file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')

const variants = (block: Block, dir: string): Array<Variant> => {
  const base = join(dir, `block-${slug(block.file)}-${block.line}`)
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

/** Where a block runs: its consumer project, the folder of its files there, and its compiler. */
interface Place {
  readonly consumer: string
  readonly dir: string
  readonly compiler: Compiler
}

/**
 * The shared consumer, or the one of the block's install line; there TypeScript also checks the packages'
 * declaration files (`skipLibCheck: false`). The word `decorators` turns on legacy decorators and their metadata.
 */
const placeOf = async (state: State, block: Block): Promise<Place> => {
  const install = state.installs.get(block.file)
  const consumer = install === undefined ? state.consumer : (await install).consumer
  const key = `${consumer} ${String(block.decorators)}`
  const compiler =
    state.compilers.get(key) ??
    makeCompiler(consumer, {
      ...(install === undefined ? {} : { skipLibCheck: false }),
      ...(block.decorators ? { experimentalDecorators: true, emitDecoratorMetadata: true } : {})
    })
  state.compilers.set(key, compiler)
  const dir = join(consumer, 'readme')
  mkdirSync(dir, { recursive: true })
  return { consumer, dir, compiler }
}

/** Compiles (TypeScript) and runs one variant; the reason it failed, or undefined. */
const runVariant = async (state: State, place: Place, block: Block, v: Variant): Promise<string | undefined> => {
  writeFileSync(v.source, block.source)
  let file = v.source
  if (/\.m?ts$/.test(v.source)) {
    const c = place.compiler.compile(v.source)
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
    const r = await node(['--require', state.preload, file], place.consumer, RUN_TIMEOUT_MS, { REDIS_URL: url })
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
    app = await startApp(file, place.consumer, state.preload, port, { REDIS_URL: url }, LISTEN_TIMEOUT_MS)
  } catch (e) {
    return (e as Error).message
  }
  let failure: string | undefined
  try {
    const probe = block.name === undefined ? undefined : probes[block.name]
    if (probe !== undefined) {
      if (state.redis === undefined || state.admin === undefined) throw new Error('no redis-server to probe with')
      await probe({ port, redisPid: state.redis.pid, admin: state.admin })
    }
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

readme('installedPackages: the words of npm install commands, flags and comments aside; versions refused', () => {
  const line = (source: string): Block => ({ ...(blocks[0] as Block), file: 'x.md', line: 1, source })
  assert.equal(installedPackages(line('npm install a @s/b-c a # a comment\nnpm i -D \\\n  @types/d\n')), [
    'a',
    '@s/b-c',
    '@types/d'
  ])
  assert.throws(() => installedPackages(line('npm install fastify@5\n')), /"fastify@5" is not a bare package name/)
  assert.throws(() => installedPackages(line('npx tsc\n')), /npm install commands only/)
  assert.throws(() => installedPackages(line('# nothing\n')), /names no package/)
})

readme('every probe has its app block, and the files with an install line have a probed app block', () => {
  for (const name of Object.keys(probes)) {
    const named = blocks.filter((b) => b.name === name)
    assert.ok(named.length === 1 && named[0]?.app === true, `one app block is named ${name}`)
  }
  for (const file of installLines.keys())
    assert.ok(
      blocks.some((b) => b.file === file && b.app && b.name !== undefined && b.name in probes),
      `${file} has an app block with a probe`
    )
})

const firstOfItsFile = (block: Block): boolean => runnable.find((b) => b.file === block.file) === block

for (const block of runnable) {
  const names = installLines.get(block.file)
  if (names !== undefined && firstOfItsFile(block))
    readme(
      `${block.file}: its blocks run in a project of the tarball and exactly ${names.join(' ')}`,
      async (state) => {
        const started = Date.now()
        const { consumer, ms } = (await state.installs.get(block.file)) ?? { consumer: '', ms: 0 }
        const pkg = JSON.parse(readFileSync(join(consumer, 'package.json'), 'utf8')) as {
          dependencies?: Record<string, string>
        }
        assert.equal(Object.keys(pkg.dependencies ?? {}).sort(), [...names].sort(), `${consumer}/package.json`)
        assert.match(pkg.dependencies?.[NAME] ?? '', /^file:.*\.tgz$/, `${NAME} is the packed tarball`)
        const s = (n: number): string => `${(n / 1000).toFixed(1)} s`
        state.timings.push(`${block.file} install ${s(ms)} (${s(Date.now() - started)} waited)`)
      }
    )
  const flags = [
    block.lang,
    ...(block.app ? ['app'] : []),
    ...(block.test ? ['test'] : []),
    ...(block.esm ? ['esm'] : []),
    ...(block.decorators ? ['decorators'] : []),
    ...(names === undefined ? [] : ['install line'])
  ].join(', ')
  readme(`${block.file}:${block.line} ${block.name ?? firstLine(block)} (${flags})`, async (state) => {
    const started = Date.now()
    const failures: Array<string> = []
    const place = await placeOf(state, block)
    for (const v of variants(block, place.dir)) {
      const why = await runVariant(state, place, block, v)
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
