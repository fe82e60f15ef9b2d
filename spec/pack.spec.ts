// Packaging smoke test: what `npm pack` would publish, and whether that tarball works once installed in a
// fresh project next to its peer dependencies — from CommonJS, from ESM, from TypeScript (commonjs, nodenext
// and bundler resolution) and against a real redis-server. Needs dist/ (npm test builds it first).
//
// The pack and the install are spec/support/pack.ts's, shared with readme.spec (one temp folder, removed at
// exit); every child process has a time limit, so the whole spec stays bounded (about 10 s when the npm
// cache already holds the peers).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs'
import { join, relative } from 'path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { rethrowSetupError } from './helpers'
import { ENTRIES } from './types/exports'
import {
  INSTALL_FLAGS,
  installPacked,
  lastJson,
  NAME,
  node,
  npm,
  pinned,
  root,
  rootPkg,
  run,
  show,
  tsc,
  type Run
} from './support/pack'
import { startRedis, type RedisServer } from './support/redis-server'

const srcModules = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? srcModules(join(dir, d.name))
      : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts')
      ? [relative(join(root, 'src'), join(dir, d.name)).replace(/\\/g, '/').replace(/\.ts$/, '')]
      : []
  )

// --- the consumer project

/** The same TypeScript consumer, compiled as app.ts (commonjs) and app.mts (nodenext ESM). */
const consumerSource = `import { once } from 'events'
import type { AddressInfo } from 'net'
import express from 'express'
import session from 'express-session'
import { createClient } from 'redis'
import { Redis } from 'ioredis'
import { createRedisStore, RedisStore, type RedisSessionStore, type StoreAccess, type StoreOptions } from '${NAME}'
import { makeGet, type StoreOperations } from '${NAME}/operations'
import { fromNodeRedis, type SessionClient } from '${NAME}/client'
import * as StoreError from '${NAME}/errors'
import { fromPlainSerializer } from '${NAME}/serializer'
import { fromIoRedis, type IoRedisClient } from '${NAME}/ioredis'
import { createMemoryClient, type MemoryClient } from '${NAME}/memory'

declare module 'express-session' {
  interface SessionData {
    user?: string
    views?: number
  }
}

// The README's shape, type-checked.
const store = createRedisStore(createClient(), { prefix: 'x:' })
export const middleware = session({ store, secret: 'consumer', resave: false, saveUninitialized: false })
export const viaNew: session.Store = new RedisStore({ client: createClient(), prefix: 'y:' })
export const options: StoreOptions = { prefix: 'z:', ttlSeconds: false, scanCount: 50 }
export const access: StoreAccess = store.access
export const getOp = makeGet
// The toolkit subpaths, typed: an adapter, the error namespace, a serializer of one's own.
export const adapted: SessionClient = fromNodeRedis(createClient())
export const timeout: StoreError.StoreError = StoreError.timedOut('get', 1000)
export const plain = fromPlainSerializer<{ readonly n: number }>(JSON)
export type Ops = StoreOperations
export const pending = (): Promise<number> => store.access.length()

// ioredis, through the adapter of the subpath export (a client that never connects: lazyConnect).
export const ioClient: IoRedisClient = new Redis({ lazyConnect: true })
export const ioStore: RedisSessionStore = createRedisStore(fromIoRedis(ioClient), { prefix: 'io:' })

// The in-memory client of the memory subpath export, typed for require and import alike.
export const memoryClient: MemoryClient = createMemoryClient({ now: () => 0 })
export const memoryStore: RedisSessionStore = createRedisStore(memoryClient, { prefix: 'mem:' })

// The types are real, not any (type-checked only: never called).
export const typeErrors = (): void => {
  // @ts-expect-error prefix is a string
  createRedisStore(createClient(), { prefix: 1 })
  // @ts-expect-error a client is required
  createRedisStore()
  // @ts-expect-error access.get resolves to SessionData | null, not a string
  const wrong: Promise<string> = store.access.get('sid')
  void wrong
  // @ts-expect-error an ioredis client goes through fromIoRedis
  createRedisStore(new Redis())
  // @ts-expect-error the clock advances by a number of ms
  memoryClient.clock.advance('1s')
}

interface Backend {
  readonly redisStore: RedisSessionStore
  readonly rawGet: (key: string) => Promise<string | null>
  readonly close: () => Promise<unknown>
}

const nodeRedisBackend = async (url: string, prefix: string): Promise<Backend> => {
  const client = createClient({ url })
  await client.connect()
  return { redisStore: createRedisStore(client, { prefix }), rawGet: (key) => client.get(key), close: () => client.close() }
}

const memoryBackend = async (): Promise<Backend> => {
  const client = createMemoryClient()
  const rawGet = async (key: string) => {
    const entry = client.keyspace.get(key)
    return entry?.type === 'string' ? entry.value : null
  }
  return { redisStore: createRedisStore(client, { prefix: 'memory:' }), rawGet, close: async () => client.connection.close() }
}

const ioRedisBackend = async (url: string, prefix: string): Promise<Backend> => {
  const client = new Redis(url, { lazyConnect: true })
  await client.connect()
  return { redisStore: createRedisStore(fromIoRedis(client), { prefix }), rawGet: (key) => client.get(key), close: () => client.quit() }
}

// With CONSUMER_REDIS_URL set: a real round trip through express-session, on node-redis or on ioredis.
const roundTrip = async (url: string, prefix: string, backend: string): Promise<void> => {
  const { redisStore, rawGet, close } =
    backend === 'memory' ? await memoryBackend() : await (backend === 'ioredis' ? ioRedisBackend : nodeRedisBackend)(url, prefix)
  const app = express()
  app.use(session({ store: redisStore, secret: 'consumer', resave: false, saveUninitialized: false }))
  app.post('/login', (req, res) => {
    req.session.user = String(req.query['user'])
    res.json({ id: req.session.id })
  })
  app.get('/me', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1
    res.json({ user: req.session.user ?? null, views: req.session.views })
  })
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = 'http://127.0.0.1:' + String((server.address() as AddressInfo).port)
  try {
    const login = await fetch(base + '/login?user=alice', { method: 'POST' })
    const cookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0] ?? ''
    const { id } = (await login.json()) as { id: string }
    const me = (await (await fetch(base + '/me', { headers: { cookie } })).json()) as { user: string | null; views: number }
    const again = (await (await fetch(base + '/me', { headers: { cookie } })).json()) as { user: string | null; views: number }
    const stored = await redisStore.access.get(id)
    const raw = await rawGet(prefix + id)
    const count = await redisStore.access.length()
    const destroyed = await redisStore.access.destroy(id)
    const afterDestroy = await redisStore.access.get(id)
    console.log(JSON.stringify({ me, again, storedUser: stored?.user ?? null, raw: raw === null ? null : JSON.parse(raw), count, destroyed, afterDestroy }))
  } finally {
    server.close()
    await close()
  }
}

const url = process.env['CONSUMER_REDIS_URL']
if (url !== undefined) {
  roundTrip(url, process.argv[2] ?? 'consumer:', process.argv[3] ?? 'node-redis').catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
`

const baseCompilerOptions = {
  strict: true,
  target: 'ES2022',
  lib: ['ES2022'],
  types: ['node'],
  skipLibCheck: true,
  forceConsistentCasingInFileNames: true
}
// The commonjs project also checks our .d.ts files (and the peers'), as a consumer without skipLibCheck
// would; once is enough, and it is the slow part (~3 s of checking @types/node, express and redis).
const tsProjects: Record<string, { file: string; compilerOptions: Record<string, unknown> }> = {
  'tsconfig.cjs.json': {
    file: 'app.ts',
    compilerOptions: {
      ...baseCompilerOptions,
      module: 'commonjs',
      esModuleInterop: true,
      skipLibCheck: false,
      outDir: 'out-cjs'
    }
  },
  'tsconfig.esm.json': {
    file: 'app.mts',
    compilerOptions: { ...baseCompilerOptions, module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out-esm' }
  },
  'tsconfig.bundler.json': {
    file: 'app.ts',
    compilerOptions: {
      ...baseCompilerOptions,
      module: 'esnext',
      moduleResolution: 'bundler',
      esModuleInterop: true,
      noEmit: true
    }
  }
}

// --- the suite

interface State {
  /** uvu drops an error thrown by a before hook without a word, so the hook keeps it here for every test. */
  setupError?: unknown
  work: string
  consumer: string
  tarball: string
  entries: Array<string>
  packJsonFiles: Array<string>
  referenceKeys: Array<string>
  redis?: RedisServer
  compiled: Set<string>
  /** The tsc runs, started together at the end of the set-up (a few seconds each). */
  tscRuns: Record<string, Promise<Run>>
  timings: Array<string>
  testStart: number
}

const pack = suite<State>('pack')
let started = Date.now()

const setUp = async (state: State): Promise<void> => {
  state.compiled = new Set()
  const packed = await installPacked()
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built CommonJS module, as a user loads it
  state.referenceKeys = Object.keys(require(join(root, 'dist', 'index.js')) as object).sort()
  state.work = packed.work
  state.tarball = packed.tarball
  state.packJsonFiles = [...packed.packJsonFiles]
  state.consumer = packed.consumer
  const listed = await run('tar', ['-tzf', state.tarball], state.work, 20_000)
  assert.is(listed.code, 0, show(listed))
  state.entries = listed.stdout
    .split('\n')
    .filter((l) => l !== '' && !l.endsWith('/'))
    .sort()

  for (const [config, { file, compilerOptions }] of Object.entries(tsProjects)) {
    writeFileSync(join(state.consumer, config), JSON.stringify({ compilerOptions, files: [file] }, null, 2))
  }
  writeFileSync(join(state.consumer, 'app.ts'), consumerSource)
  writeFileSync(join(state.consumer, 'app.mts'), consumerSource)
  state.tscRuns = Object.fromEntries(Object.keys(tsProjects).map((config) => [config, tsc(config, state.consumer)]))
}

pack.before(async (state) => {
  started = Date.now() // uvu loads every spec file before it runs the first one
  state.timings = []
  try {
    await setUp(state)
  } catch (err) {
    state.setupError = err
  }
  state.timings.push(`pack + install ${((Date.now() - started) / 1000).toFixed(1)} s`)
})

pack.after.each((state) => {
  state.timings.push(`${((Date.now() - state.testStart) / 1000).toFixed(1)} s`)
})

pack.before.each((state) => {
  state.testStart = Date.now()
  rethrowSetupError(state.setupError)
})

pack.after(async (state) => {
  await state.redis?.stop()
  console.log(`  (pack spec: ${((Date.now() - started) / 1000).toFixed(1)} s: ${state.timings.join(', ')})`)
})

pack(
  'npm install of the tarball beside ioredis 6 succeeds without flags, and the adapter takes its client',
  async (state) => {
    const consumer = join(state.work, 'consumer-ioredis6')
    mkdirSync(consumer)
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'crs-ioredis6', version: '0.0.0', private: true })
    )
    const peers = Object.entries(rootPkg.peerDependencies)
      .filter(([name]) => name !== 'ioredis')
      .map(([name, range]) => pinned(name, range))
    const { version } = JSON.parse(readFileSync(join(root, 'node_modules', 'ioredis-6', 'package.json'), 'utf8')) as {
      version: string
    }
    const ioredis6 = `ioredis@${version}`
    const installed = await npm(['install', state.tarball, ...peers, ioredis6, ...INSTALL_FLAGS], consumer, 90_000)
    assert.is(installed.code, 0, show(installed))
    const check = await node(
      [
        '-e',
        `const { Redis } = require('ioredis'); const { fromIoRedis } = require('${NAME}/ioredis'); const c = fromIoRedis(new Redis({ lazyConnect: true })); console.log(JSON.stringify({ version: require('ioredis/package.json').version, tag: c._tag })); process.exit(0)`
      ],
      consumer,
      20_000
    )
    assert.is(check.code, 0, show(check))
    const out = lastJson<{ version: string; tag: string }>(check)
    assert.match(out.version, /^6\./)
    assert.is(out.tag, 'SessionClient')
  }
)

pack(
  'package.json publishes through .npmignore (no "files"); "exports" and typesVersions give every entry point its types',
  () => {
    assert.is(rootPkg.files, undefined, 'package.json must not have a "files" field: .npmignore is the publish filter')
    assert.equal(Object.keys(rootPkg.exports).sort(), [...Object.keys(ENTRIES), './package.json'].sort())
    for (const [entry, { source }] of Object.entries(ENTRIES)) {
      const built = source.replace(/^src\//, './dist/').replace(/\.ts$/, '')
      assert.equal(rootPkg.exports[entry], { types: `${built}.d.ts`, default: `${built}.js` }, entry)
      // moduleResolution node10 ignores "exports": typesVersions gives it the subpaths' types.
      if (entry !== '.') assert.equal(rootPkg.typesVersions?.['*']?.[entry.slice(2)], [`${built}.d.ts`], entry)
    }
    assert.is(rootPkg.peerDependenciesMeta?.['ioredis']?.optional, true, 'ioredis is an optional peer')
  }
)

pack('the tarball holds only package.json, README.md, LICENSE and dist/ (.js, .d.ts, maps)', (state) => {
  assert.equal(state.entries, state.packJsonFiles, 'tar listing and npm pack --json disagree')
  const allowed = (e: string): boolean =>
    ['package/package.json', 'package/README.md', 'package/LICENSE'].includes(e) ||
    /^package\/dist\/[\w./-]+\.(js|d\.ts|js\.map|d\.ts\.map)$/.test(e)
  assert.equal(
    state.entries.filter((e) => !allowed(e)),
    [],
    'unexpected files in the tarball'
  )
  for (const bad of [
    /^package\/(src|spec|\.ci|examples|\.spec-build|node_modules|\.git)\//,
    /tsbuildinfo$/,
    /(?<!\.d)\.ts$/,
    /\.tgz$/
  ]) {
    assert.equal(
      state.entries.filter((e) => bad.test(e)),
      [],
      `tarball entries matching ${String(bad)}`
    )
  }
  for (const must of [
    'package/package.json',
    'package/README.md',
    'package/LICENSE',
    'package/dist/index.js',
    'package/dist/index.d.ts',
    'package/dist/ioredis.js',
    'package/dist/ioredis.d.ts',
    'package/dist/memory.js',
    'package/dist/memory.d.ts'
  ]) {
    assert.ok(state.entries.includes(must), `${must} is missing from the tarball`)
  }
})

pack('every src module ships as .js + .d.ts, and nothing else is in dist/ (no stale build output)', (state) => {
  const modules = srcModules(join(root, 'src')).sort()
  const missing = modules
    .flatMap((m) => [`package/dist/${m}.js`, `package/dist/${m}.d.ts`])
    .filter((e) => !state.entries.includes(e))
  assert.equal(missing, [], 'src modules without build output in the tarball')
  const shipped = state.entries
    .filter((e) => e.startsWith('package/dist/'))
    .map((e) => e.replace(/^package\/dist\//, '').replace(/\.(js|d\.ts)(\.map)?$/, ''))
  const stale = [...new Set(shipped)].filter((m) => !modules.includes(m))
  assert.equal(
    stale,
    [],
    'dist/ files with no src module: stale output would be published (rm -rf dist && npm run build)'
  )
  for (const target of [rootPkg.main, rootPkg.types]) {
    if (target !== undefined)
      assert.ok(
        state.entries.includes(`package/${target.replace(/^\.\//, '')}`),
        `package.json points at ${target}, which is not packed`
      )
  }
})

pack(
  'require() of the installed package: the API is there and the store is an express-session Store',
  async (state) => {
    const script = `
    const m = require(${JSON.stringify(NAME)})
    const session = require('express-session')
    const { createClient } = require('redis')
    const store = m.createRedisStore(createClient(), { prefix: 'x:' })
    const viaNew = new m.RedisStore({ client: createClient(), prefix: 'y:' })
    let deep
    try { require(${JSON.stringify(`${NAME}/dist/keys`)}); deep = 'resolved' } catch (e) { deep = e.code }
    const io = require(${JSON.stringify(`${NAME}/ioredis`)})
    const mem = require(${JSON.stringify(`${NAME}/memory`)})
    const subpaths = Object.fromEntries(['operations', 'client', 'errors', 'serializer'].map((p) => {
      const id = ${JSON.stringify(NAME)} + '/' + p
      return [p, { resolved: require.resolve(id), keys: Object.keys(require(id)).sort() }]
    }))
    // Neither entry point loads ioredis itself.
    const loadedBeforeUs = Object.keys(require.cache).some((f) => f.includes('/node_modules/ioredis/'))
    const { Redis } = require('ioredis')
    const ioClient = new Redis({ lazyConnect: true, keyPrefix: 'kp:' })
    const adapted = io.fromIoRedis(ioClient)
    console.log(JSON.stringify({
      resolved: require.resolve(${JSON.stringify(NAME)}),
      keys: Object.keys(m).sort(),
      types: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v])),
      isStore: store instanceof session.Store,
      isRedisStore: store instanceof m.RedisStore,
      viaNewIsStore: viaNew instanceof session.Store,
      deep,
      subpaths,
      version: require(${JSON.stringify(`${NAME}/package.json`)}).version,
      memory: {
        resolved: require.resolve(${JSON.stringify(`${NAME}/memory`)}),
        keys: Object.keys(mem).sort(),
        isStore: m.createRedisStore(mem.createMemoryClient()) instanceof session.Store
      },
      ioredis: {
        resolved: require.resolve(${JSON.stringify(`${NAME}/ioredis`)}),
        keys: Object.keys(io).sort(),
        keyPrefix: adapted.keyPrefix,
        memoized: io.fromIoRedis(ioClient) === adapted,
        isStore: m.createRedisStore(adapted) instanceof session.Store,
        loadedBeforeUs
      }
    }))`
    const r = await node(['-e', script], state.consumer)
    assert.is(r.code, 0, show(r))
    const out = lastJson<{
      resolved: string
      keys: Array<string>
      types: Record<string, string>
      isStore: boolean
      isRedisStore: boolean
      viaNewIsStore: boolean
      deep: string
      subpaths: Record<string, { resolved: string; keys: Array<string> }>
      version: string
      memory: { resolved: string; keys: Array<string>; isStore: boolean }
      ioredis: {
        resolved: string
        keys: Array<string>
        keyPrefix: string
        memoized: boolean
        isStore: boolean
        loadedBeforeUs: boolean
      }
    }>(r)
    assert.is(
      out.resolved,
      join(state.consumer, 'node_modules', NAME, 'dist', 'index.js'),
      'resolved outside the fresh install'
    )
    assert.equal(out.keys, state.referenceKeys, 'the installed package exports differ from the repo build')
    for (const fn of ['createRedisStore', 'RedisStore', 'saveSession', 'SessionStoreError', 'codecSerializer']) {
      assert.is(out.types[fn], 'function', `${fn} should be a function`)
    }
    // Each toolkit subpath resolves inside the fresh install and exports what the repo build does.
    for (const [sub, { resolved, keys }] of Object.entries(out.subpaths)) {
      const file = sub === 'errors' ? join('dist', 'errors.js') : join('dist', sub, 'index.js')
      assert.is(resolved, join(state.consumer, 'node_modules', NAME, file), `${NAME}/${sub} resolved elsewhere`)
      const entry = ENTRIES[`./${sub}` as keyof typeof ENTRIES]
      assert.equal(keys, [...entry.values].sort(), `${NAME}/${sub} exports`)
    }
    assert.ok(out.subpaths['operations']?.keys.includes('makeGet'), 'makeGet is on /operations')
    assert.ok(!out.keys.includes('makeGet'), 'the root does not export the toolkit')
    assert.equal(
      [out.isStore, out.isRedisStore, out.viaNewIsStore],
      [true, true, true],
      'the store must extend the peer express-session Store'
    )
    assert.is(out.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'deep imports must be closed by "exports"')
    assert.is(out.version, rootPkg.version)
    assert.is(
      out.ioredis.resolved,
      join(state.consumer, 'node_modules', NAME, 'dist', 'ioredis.js'),
      'connect-redis-session/ioredis resolved elsewhere'
    )
    assert.equal(
      out.ioredis.keys,
      ['fromIoRedis', 'fromIoRedisCluster'],
      'the ioredis entry exports its two adapters only'
    )
    assert.ok(!out.keys.includes('fromIoRedis'), 'the root does not export fromIoRedis')
    assert.equal(
      out.memory,
      {
        resolved: join(state.consumer, 'node_modules', NAME, 'dist', 'memory.js'),
        keys: ['createMemoryClient'],
        isStore: true
      },
      'connect-redis-session/memory: its one value export, and a working store on it'
    )
    assert.ok(!out.keys.includes('createMemoryClient'), 'the root does not export createMemoryClient')
    assert.equal([out.ioredis.keyPrefix, out.ioredis.memoized, out.ioredis.isStore], ['kp:', true, true])
    assert.is(out.ioredis.loadedBeforeUs, false, 'requiring the package (root or /ioredis) must not load ioredis')
  }
)

pack('ESM: named imports of the CJS build, and the package.json import with { type: "json" }', async (state) => {
  writeFileSync(
    join(state.consumer, 'named.mjs'),
    `import { createRedisStore, RedisStore } from ${JSON.stringify(NAME)}
import { makeGet } from ${JSON.stringify(`${NAME}/operations`)}
import * as ns from ${JSON.stringify(NAME)}
import cjs from ${JSON.stringify(NAME)}
import { fromIoRedis } from ${JSON.stringify(`${NAME}/ioredis`)}
import * as ioNs from ${JSON.stringify(`${NAME}/ioredis`)}
import { createMemoryClient } from ${JSON.stringify(`${NAME}/memory`)}
import * as memNs from ${JSON.stringify(`${NAME}/memory`)}
import { Redis } from 'ioredis'
const ioClient = new Redis({ lazyConnect: true })
console.log(JSON.stringify({
  types: [typeof createRedisStore, typeof RedisStore, typeof makeGet, typeof fromIoRedis],
  named: Object.keys(ns).filter((k) => k !== 'default' && k !== '__esModule').sort(),
  ioNamed: Object.keys(ioNs).filter((k) => k !== 'default' && k !== '__esModule').sort(),
  ioTag: fromIoRedis(ioClient)._tag,
  memNamed: Object.keys(memNs).filter((k) => k !== 'default' && k !== '__esModule').sort(),
  memTag: createMemoryClient()._tag,
  same: cjs.createRedisStore === createRedisStore
}))
`
  )
  const r = await node(['named.mjs'], state.consumer)
  assert.is(r.code, 0, show(r))
  const out = lastJson<{
    types: Array<string>
    named: Array<string>
    ioNamed: Array<string>
    ioTag: string
    memNamed: Array<string>
    memTag: string
    same: boolean
  }>(r)
  assert.equal(out.types, ['function', 'function', 'function', 'function'])
  assert.equal(out.named, state.referenceKeys, 'node must see every CommonJS export as a named ESM export')
  assert.equal(
    out.ioNamed,
    ['fromIoRedis', 'fromIoRedisCluster'],
    'connect-redis-session/ioredis: both adapters as named ESM exports'
  )
  assert.is(out.ioTag, 'SessionClient')
  assert.equal(
    [out.memNamed, out.memTag],
    [['createMemoryClient'], 'SessionClient'],
    'connect-redis-session/memory from ESM'
  )
  assert.ok(out.same)

  // Import attributes (`with`) arrived in Node 18.20 / 20.10; older 20.x only knows `assert`.
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  if (major === 20 && minor < 10) {
    console.log(`  (skipped: import ... with { type: 'json' } needs Node >= 20.10, this is ${process.versions.node})`)
    return
  }
  writeFileSync(
    join(state.consumer, 'json.mjs'),
    `import pkg from ${JSON.stringify(`${NAME}/package.json`)} with { type: 'json' }
console.log(JSON.stringify({ name: pkg.name, version: pkg.version }))
`
  )
  const j = await node(['--no-warnings', 'json.mjs'], state.consumer)
  assert.is(j.code, 0, show(j))
  assert.equal(lastJson(j), { name: NAME, version: rootPkg.version })
})

for (const config of Object.keys(tsProjects)) {
  const { module: mod, moduleResolution, skipLibCheck } = tsProjects[config]?.compilerOptions ?? {}
  const label = `strict, module ${String(mod)}${
    moduleResolution ? `, moduleResolution ${String(moduleResolution)}` : ''
  }${skipLibCheck ? '' : ', no skipLibCheck'}`
  pack(`TypeScript consumer compiles (${label})`, async (state) => {
    const r = await (state.tscRuns[config] ?? tsc(config, state.consumer))
    assert.is(r.code, 0, `tsc -p ${config} failed\n${show(r)}`)
    state.compiled.add(config)
  })
}

pack(
  'the installed package stores and reads sessions in a real redis-server (compiled CJS and ESM consumers, on node-redis and on ioredis) and in the in-memory client',
  async (state) => {
    state.redis = await startRedis()
    for (const [config, entry, prefix, backend] of [
      ['tsconfig.cjs.json', join('out-cjs', 'app.js'), 'cjs:', 'node-redis'],
      ['tsconfig.esm.json', join('out-esm', 'app.mjs'), 'esm:', 'node-redis'],
      ['tsconfig.cjs.json', join('out-cjs', 'app.js'), 'io-cjs:', 'ioredis'],
      ['tsconfig.esm.json', join('out-esm', 'app.mjs'), 'io-esm:', 'ioredis'],
      ['tsconfig.cjs.json', join('out-cjs', 'app.js'), 'memory:', 'memory'],
      ['tsconfig.esm.json', join('out-esm', 'app.mjs'), 'memory:', 'memory']
    ] as const) {
      assert.ok(state.compiled.has(config), `${config} did not compile, so ${entry} cannot run`)
      const label = `${entry} on ${backend}`
      const r = await node([entry, prefix, backend], state.consumer, 20_000, { CONSUMER_REDIS_URL: state.redis.url })
      assert.is(r.code, 0, `${label}\n${show(r)}`)
      const out = lastJson<{
        me: { user: string | null; views: number }
        again: { user: string | null; views: number }
        storedUser: string | null
        raw: { user?: string; views?: number } | null
        count: number
        destroyed: boolean
        afterDestroy: unknown
      }>(r)
      assert.equal(out.me, { user: 'alice', views: 1 }, label)
      assert.equal(out.again, { user: 'alice', views: 2 }, label)
      assert.is(out.storedUser, 'alice', label)
      assert.equal(
        [out.raw?.user, out.raw?.views],
        ['alice', 2],
        `${label}: the session is a JSON string under "${prefix}<sid>"`
      )
      assert.is(out.count, 1, label)
      assert.is(out.destroyed, true, label)
      assert.is(out.afterDestroy, null, label)
    }
  }
)

pack.run()
