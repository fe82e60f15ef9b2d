/**
 * The package as a user gets it: `npm pack` of the repo, installed with `npm install` into a fresh consumer
 * project next to its peers (pinned to the versions the repo tests with), Express, connect-redis and the
 * @types a TypeScript consumer needs. `installPacked()` does it once per process (uvu runs every spec file
 * in one process, so pack.spec, readme.spec and faults/quick-start share one install); the temp folder is
 * removed when the process exits. `installConsumer` makes further projects from the same tarball with exactly
 * the packages a guide's install line names (readme.spec). Also the child-process helpers those specs use.
 * Needs dist/.
 */
import { execFile } from 'child_process'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import { join, resolve } from 'path'

/** The repo root (this file compiles to .spec-build/spec/support). */
export const root = resolve(__dirname, '..', '..', '..')

export interface RootPackage {
  readonly name: string
  readonly version: string
  readonly main?: string
  readonly types?: string
  readonly files?: unknown
  readonly exports: Record<string, unknown>
  readonly typesVersions?: Record<string, Record<string, ReadonlyArray<string>>>
  readonly peerDependencies: Record<string, string>
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>
}
export const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as RootPackage
export const NAME = rootPkg.name

// --- child processes

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * The environment of a child: without the npm_* variables of the `npm test` around us (a nested npm would
 * take npm_config_local_prefix & co. as its own config) except the ones that say where the cache and the
 * registry are, and without the runner's FORCE_COLOR + NO_COLOR pair (node warns when both are set).
 */
export const childEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const keep = /^npm_config_(cache|registry|userconfig|globalconfig|.*proxy|strict_ssl|cafile|ca)$/i
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !keep.test(k)) continue
    if (k === 'FORCE_COLOR' || k === 'NO_COLOR') continue
    env[k] = v
  }
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra }
}

/** Runs `cmd` to its end, SIGKILLed after `timeoutMs`; never rejects. */
export const run = (
  cmd: string,
  args: ReadonlyArray<string>,
  cwd: string,
  timeoutMs: number,
  extraEnv: Record<string, string> = {}
): Promise<Run> =>
  new Promise((done) => {
    execFile(
      cmd,
      [...args],
      {
        cwd,
        env: childEnv(extraEnv),
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 32 * 1024 * 1024,
        encoding: 'utf8'
      },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; killed?: boolean }) | null
        const timedOut = e?.killed === true ? `\n[spec] killed after ${timeoutMs} ms: ${cmd} ${args.join(' ')}` : ''
        done({
          code: e === null ? 0 : typeof e.code === 'number' ? e.code : null,
          stdout,
          stderr: stderr + timedOut + (e && typeof e.code !== 'number' ? `\n${e.message}` : '')
        })
      }
    )
  })

export const node = (
  args: ReadonlyArray<string>,
  cwd: string,
  timeoutMs = 20_000,
  env: Record<string, string> = {}
): Promise<Run> => run(process.execPath, args, cwd, timeoutMs, env)

/** The npm running `npm test` (npm_execpath), else the one installed next to this node, else `npm` on the PATH. */
const npmCli = [
  process.env['npm_execpath'],
  join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')
].find((p): p is string => p !== undefined && /npm-cli\.js$/.test(p) && existsSync(p))
export const npm = (args: ReadonlyArray<string>, cwd: string, timeoutMs: number): Promise<Run> =>
  npmCli !== undefined ? node([npmCli, ...args], cwd, timeoutMs) : run('npm', args, cwd, timeoutMs)

/** The repo's tsc on a project file. */
export const tsc = (project: string, cwd: string): Promise<Run> =>
  node([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], cwd, 60_000)

export const show = (r: Run): string =>
  `exit ${r.code}\n--- stdout\n${r.stdout.slice(-6000)}\n--- stderr\n${r.stderr.slice(-6000)}`

/** The last stdout line, parsed as JSON. */
export const lastJson = <A>(r: Run): A => {
  const line = r.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as A
  } catch {
    throw new Error(`expected a JSON line on stdout\n${show(r)}`)
  }
}

// --- the packed install

export interface Packed {
  /** The temp folder holding both the tarball and the consumer (removed at exit). */
  readonly work: string
  readonly tarball: string
  /** `package/<path>` of every file `npm pack --json` reported, sorted. */
  readonly packJsonFiles: ReadonlyArray<string>
  /** The consumer project: package.json and node_modules only, the specs add their own files. */
  readonly consumer: string
  /** How long the pack and the install took. */
  readonly ms: number
}

/** `name@<version in the repo's node_modules>`, or `name@fallback` when it is not installed there. */
export const pinned = (name: string, fallback: string): string => {
  const p = join(root, 'node_modules', name, 'package.json')
  return `${name}@${existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version : fallback}`
}

/** How a consumer installs the tarball: from the npm cache when it can, no scripts, no lock file, errors only. */
export const INSTALL_FLAGS = [
  '--no-audit',
  '--no-fund',
  '--prefer-offline',
  '--ignore-scripts',
  '--no-package-lock',
  '--loglevel=error'
] as const

let workDir: string | undefined
process.on('exit', () => {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true })
})

const fail = (what: string, r: Run): never => {
  throw new Error(`${what} failed\n${show(r)}`)
}

/** The tarball of `npm pack` in `work`/tarball, and the files `npm pack --json` reported. */
const pack = async (work: string): Promise<{ tarball: string; files: ReadonlyArray<string> }> => {
  if (!existsSync(join(root, 'dist', 'index.js')))
    throw new Error('dist/index.js is missing: run npm run build (npm test does)')
  const packDir = join(work, 'tarball')
  mkdirSync(packDir)
  const packed = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], root, 60_000)
  if (packed.code !== 0) fail('npm pack', packed)
  const info = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
  if (info.length !== 1) throw new Error(`npm pack --json reported ${info.length} packages\n${packed.stdout}`)
  const tarball = join(packDir, info[0]?.filename ?? '')
  if (!existsSync(tarball)) throw new Error(`no tarball at ${tarball}`)
  return { tarball, files: (info[0]?.files ?? []).map((f) => `package/${f.path}`).sort() }
}

/** A fresh project `dir` (created) with the tarball and `deps` installed (INSTALL_FLAGS); throws on a failure. */
const installInto = async (dir: string, tarball: string, deps: ReadonlyArray<string>): Promise<void> => {
  mkdirSync(dir)
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'crs-pack-consumer', version: '0.0.0', private: true }, null, 2)
  )
  const installed = await npm(['install', tarball, ...deps, ...INSTALL_FLAGS], dir, 90_000)
  if (installed.code !== 0) fail('npm install', installed)
  const at = join(dir, 'node_modules', NAME)
  if (!(existsSync(at) && lstatSync(at).isDirectory() && !lstatSync(at).isSymbolicLink()))
    throw new Error(`${NAME} is not installed as a real folder at ${at}`)
}

let packOnce: Promise<{ work: string; tarball: string; files: ReadonlyArray<string> }> | undefined
/** The tarball of this process, packed once into the temp folder removed at exit. */
const packed = (): Promise<{ work: string; tarball: string; files: ReadonlyArray<string> }> =>
  (packOnce ??= (async () => {
    const work = (workDir = mkdtempSync(join(tmpdir(), 'crs-pack-')))
    return { work, ...(await pack(work)) }
  })())

const packAndInstall = async (): Promise<Packed> => {
  const started = Date.now()
  const { work, tarball, files } = await packed()
  // A fresh project: the tarball and its peers, pinned to the versions the repo tests with (so the npm cache
  // usually has them) — the optional peer ioredis included, for connect-redis-session/ioredis —, plus what
  // the specs' consumers and the README's examples import, and their types.
  const consumer = join(work, 'consumer')
  const deps = [
    ...Object.entries(rootPkg.peerDependencies).map(([name, range]) => pinned(name, range)),
    pinned('express', '^5'),
    pinned('connect-redis', '^10'),
    pinned('uvu', '^0.5'),
    pinned('@types/express-session', '*'),
    pinned('@types/express', '*'),
    pinned('@types/node', '^20')
  ]
  await installInto(consumer, tarball, deps)
  return { work, tarball, packJsonFiles: files, consumer, ms: Date.now() - started }
}

let once: Promise<Packed> | undefined
/** The packed install of this process (made on the first call; a failure is every caller's failure). */
export const installPacked = (): Promise<Packed> => (once ??= packAndInstall())

/**
 * A consumer project of its own, `consumer-<name>` in the temp folder: the tarball and exactly the packages
 * `names` (an install line's: `${NAME}` stands for the tarball), each at the version in the repo's
 * node_modules, so that npm takes it from its cache and the spec runs what the repo tests. A name the repo
 * has not installed is an error (add it to devDependencies). Resolves with the project's folder and how long
 * its install took.
 */
export const installConsumer = async (
  name: string,
  names: ReadonlyArray<string>
): Promise<{ readonly consumer: string; readonly ms: number }> => {
  const missing = names.filter((n) => n !== NAME && !existsSync(join(root, 'node_modules', n, 'package.json')))
  if (missing.length > 0)
    throw new Error(`not in the repo's node_modules (add to devDependencies, for its version): ${missing.join(', ')}`)
  if (!names.includes(NAME)) throw new Error(`the install line does not name ${NAME}: ${names.join(' ')}`)
  const { work, tarball } = await packed()
  const started = Date.now()
  const consumer = join(work, `consumer-${name}`)
  await installInto(
    consumer,
    tarball,
    names.filter((n) => n !== NAME).map((n) => pinned(n, 'latest'))
  )
  return { consumer, ms: Date.now() - started }
}
