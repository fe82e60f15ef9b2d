/**
 * The fenced code blocks of README.md and how the README specs run them. The fence's info string is
 * `<language> [word…]` (GitHub shows the language and ignores the rest):
 * - `js`: plain JavaScript, CommonJS (`.cjs`) when it calls `require(`, else ESM (`.mjs`) when it has an
 *   `import`/`export` statement, else CommonJS;
 * - `ts`: TypeScript, type-checked and run as CommonJS (`.ts`) and as ESM (`.mts`);
 * - any other language (`sh`, `text`, …): not run;
 * - word `esm`: ESM only (a `ts` block with top-level await; a `js` block becomes `.mjs`);
 * - word `app`: a server that never exits (run with PORT, probed, then stopped);
 * - word `test`: a uvu test file — it must exit 0 with uvu's summary showing at least one test, all passed;
 * - word `name:<id>`: the block's id, for block-specific checks.
 */
import { spawn, type ChildProcess } from 'child_process'
import { readFileSync } from 'fs'
import { connect } from 'net'
import { join } from 'path'
import { childEnv, root } from './pack'

export const README = join(root, 'README.md')

export interface Block {
  /** Line of the opening fence in the file (1-based). */
  readonly line: number
  /** The first word of the info string, lower-cased ('' when there is none). */
  readonly lang: string
  /** The other words of the info string. */
  readonly words: ReadonlyArray<string>
  /** The `name:<id>` word's id. */
  readonly name: string | undefined
  readonly app: boolean
  /** A uvu test file (word `test`). */
  readonly test: boolean
  readonly esm: boolean
  readonly source: string
}

export interface Parsed {
  readonly blocks: ReadonlyArray<Block>
  /** Fences left open at the end of the file (their block runs to the end, as in CommonMark). */
  readonly unclosed: ReadonlyArray<number>
}

/** Fenced code blocks (``` or ~~~, any indent: list items too), in order. */
export const parseFences = (markdown: string): Parsed => {
  const lines = markdown.split(/\r?\n/)
  const blocks: Array<Block> = []
  const unclosed: Array<number> = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i] ?? '')
    if (open === null) continue
    const indent = open[1]?.length ?? 0
    const fence = open[2] ?? '```'
    const info = (open[3] ?? '').trim()
    if (fence.startsWith('`') && info.includes('`')) continue // an inline code span, not a fence
    const closing = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`)
    const body: Array<string> = []
    let j = i + 1
    for (; j < lines.length && !closing.test(lines[j] ?? ''); j++) {
      const l = lines[j] ?? ''
      body.push(l.slice(Math.min(indent, /^\s*/.exec(l)?.[0].length ?? 0)))
    }
    if (j >= lines.length) unclosed.push(i + 1)
    const [first = '', ...words] = info.split(/\s+/).filter((w) => w !== '')
    const name = words.find((w) => w.startsWith('name:'))?.slice('name:'.length)
    blocks.push({
      line: i + 1,
      lang: first
        .replace(/^\{?\.?/, '')
        .replace(/[},].*$/, '')
        .toLowerCase(),
      words,
      name: name === undefined || name === '' ? undefined : name,
      app: words.includes('app'),
      test: words.includes('test'),
      esm: words.includes('esm'),
      source: body.join('\n') + '\n'
    })
    i = j
  }
  return { blocks, unclosed }
}

export type Kind = 'cjs' | 'mjs' | 'ts'

/** How a block runs, or `undefined` when it is not run. */
export const kindOf = (block: Block): Kind | undefined => {
  if (block.lang === 'ts' || block.lang === 'typescript') return 'ts'
  if (block.lang !== 'js' && block.lang !== 'javascript') return undefined
  if (block.esm) return 'mjs'
  if (/\brequire\s*\(/.test(block.source)) return 'cjs'
  return /^\s*(import\s*[\w*{'"]|export\s)/m.test(block.source) ? 'mjs' : 'cjs'
}

export const readReadme = (): Parsed => parseFences(readFileSync(README, 'utf8'))

/** The block named `name`, or an error that says what the README has instead. */
export const namedBlock = (parsed: Parsed, name: string): Block => {
  const found = parsed.blocks.filter((b) => b.name === name)
  if (found.length !== 1) {
    const named = parsed.blocks.filter((b) => b.name !== undefined).map((b) => `${b.name ?? ''} (line ${b.line})`)
    throw new Error(
      `README.md has ${found.length} blocks named "${name}" (want 1); named blocks: ${named.join(', ') || 'none'}`
    )
  }
  return found[0] as Block
}

/** The block's first non-empty line, for test titles. */
export const firstLine = (block: Block): string =>
  (block.source.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 70)

/** The block's source with README line numbers, for failure messages. */
export const numbered = (block: Block): string =>
  block.source
    .replace(/\n$/, '')
    .split('\n')
    .map((l, k) => `${String(block.line + 1 + k).padStart(4)} | ${l}`)
    .join('\n')

/**
 * A `node --require` preload that makes a `listen()` without a host bind 127.0.0.1 instead of every
 * interface, so README apps (`app.listen(PORT)`) stay on the loopback while a spec runs them.
 */
export const LOOPBACK_PRELOAD = `'use strict'
const net = require('net')
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const [first, second] = args
  if ((typeof first === 'number' || (typeof first === 'string' && /^\\d+$/.test(first))) && typeof second !== 'string') {
    args.splice(1, 0, '127.0.0.1')
  } else if (first !== null && typeof first === 'object' && !Array.isArray(first) && first.path === undefined && first.host === undefined && first.fd === undefined && first._handle === undefined && first.handle === undefined) {
    args[0] = { ...first, host: '127.0.0.1' }
  }
  return listen.apply(this, args)
}
`

/** Node's experimental-feature warnings (and the hint line after them): the only stderr a block may print. */
export const unexpectedStderr = (stderr: string): string =>
  stderr
    .split('\n')
    .filter(
      (l) =>
        l.trim() !== '' &&
        !/^\(node:\d+\) ExperimentalWarning: /.test(l) &&
        !/^\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)$/.test(l)
    )
    .join('\n')

// --- app blocks: servers that never exit

export interface AppProcess {
  readonly pid: number
  /** What the process printed so far. */
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<string>
  /** Whether it has exited. */
  readonly alive: () => boolean
  /** SIGTERM to its PID, SIGKILL 2 s later if it is still there; resolves once it has exited. */
  readonly stop: () => Promise<string>
}

const apps = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of apps) child.kill('SIGKILL')
})

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })

/**
 * Starts `node --require <preload> <file>` in `cwd` with `env` added (PORT among them) and resolves once
 * 127.0.0.1:`port` accepts connections; rejects (after stopping it) when the process exits first or does
 * not listen within `listenTimeoutMs`.
 */
export const startApp = async (
  file: string,
  cwd: string,
  preload: string,
  port: number,
  env: Record<string, string>,
  listenTimeoutMs = 15_000
): Promise<AppProcess> => {
  const child = spawn(process.execPath, ['--require', preload, file], {
    cwd,
    env: childEnv({ ...env, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  apps.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  let gone = false
  const exited = new Promise<string>((resolve) => {
    child.once('error', (e) => {
      stderr += `\n[spec] ${e.message}`
    })
    child.once('close', (code, signal) => {
      gone = true
      apps.delete(child)
      resolve(signal !== null ? signal : `exit ${String(code)}`)
    })
  })
  const stop = async (): Promise<string> => {
    if (!gone) child.kill('SIGTERM')
    const kill = setTimeout(() => child.kill('SIGKILL'), 2_000)
    const how = await exited
    clearTimeout(kill)
    return how
  }
  const app: AppProcess = {
    pid: child.pid ?? -1,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    alive: () => !gone,
    stop
  }
  const deadline = Date.now() + listenTimeoutMs
  for (;;) {
    if (gone)
      throw new Error(
        `the app exited (${await exited}) before it listened on 127.0.0.1:${port}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`
      )
    if (await accepts(port)) return app
    if (Date.now() > deadline) {
      const how = await stop()
      throw new Error(
        `the app did not listen on 127.0.0.1:${port} within ${listenTimeoutMs} ms (stopped: ${how})\n--- stdout\n${stdout}\n--- stderr\n${stderr}`
      )
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

// --- test blocks: uvu test files

/**
 * What is wrong with the output of a uvu test file that exited 0: no summary, no test at all, or a test that
 * did not pass; `undefined` when it ran at least one test and all passed.
 */
export const uvuProblem = (stdout: string): string | undefined => {
  const count = (label: string): number | undefined => {
    const m = new RegExp(`^\\s*${label}:\\s+(\\d+)\\s*$`, 'm').exec(stdout)
    return m === null ? undefined : Number(m[1])
  }
  const total = count('Total')
  const passed = count('Passed')
  if (total === undefined || passed === undefined) return 'printed no uvu summary (Total / Passed)'
  if (total === 0) return 'ran no test'
  return passed === total ? undefined : `passed ${passed} of ${total} tests`
}
