#!/usr/bin/env node
// `npm test`: build, type-check the specs, make sure redis-server exists, run every uvu spec, and end with
// one line "N passed, N failed". Set SPEC=<regex> to run only matching spec files.
// `npm run test:unit` (UNIT=1): the same build and spec compile, then only the specs that need no
// redis-server (the ones that mirror src/), without looking for redis-server: seconds, not minutes.
'use strict'
const { spawn, spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const root = path.resolve(__dirname, '..')
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
const bin = (name) => path.join(root, 'node_modules', '.bin', name)
const unit = process.env.UNIT === '1'
// Suites that start a redis-server, or pack/run the package: left out of the unit run (uvu --ignore, matched
// against folder and file names relative to .spec-build/spec).
const NEEDS_REDIS = '^(integration|e2e|faults|property|(pack|readme|demo)\\.spec\\.js)$'
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0

const finish = (passed, failed, skipped = 0) => {
  console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
  process.exit(failed === 0 && passed > 0 ? 0 : 1)
}

// 1. Build the package and compile the specs (this is also the type test of spec/types). The unit run
// compiles incrementally: only what changed since its last run is checked again.
const incremental = unit ? ['--incremental', '--tsBuildInfoFile', '.spec-build/unit.tsbuildinfo'] : []
for (const [label, cmd, args] of [
  ['build', 'npm', ['run', 'build', '--silent']],
  ['spec compile', bin('tsc'), ['-p', 'spec/tsconfig.json', ...incremental]]
]) {
  if (run(cmd, args).status !== 0) {
    console.error(`${label} failed`)
    finish(0, 1)
  }
}

// Compiled specs whose source is gone (a spec moved or deleted) must not run: remove them.
const removeStale = (dir) => {
  if (!fs.existsSync(dir)) return
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) removeStale(file)
    else if (/\.js(\.map)?$/.test(entry.name)) {
      const source = path.join(
        root,
        'spec',
        path.relative(path.join(root, '.spec-build', 'spec'), file).replace(/\.js(\.map)?$/, '.ts')
      )
      if (!fs.existsSync(source)) fs.rmSync(file)
    }
  }
}
removeStale(path.join(root, '.spec-build', 'spec'))

// 2. A real redis-server for the integration specs (not for the unit run).
if (!unit && !has('redis-server')) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (isRoot && has('apt-get')) {
    console.log('redis-server is missing: installing it with apt-get')
    run('sh', [
      '-c',
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null'
    ])
  }
  if (!has('redis-server')) {
    console.error('redis-server is missing: install it (sudo apt-get install redis-server) and run npm test again')
    finish(0, 1)
  }
}

// 2b. Headless Chromium for the browser spec (spec/e2e/devices-browser.spec.ts, which fails without it): Debian's
// package, installed like redis-server when the runner is root.
const CHROMIUM = '/usr/bin/chromium'
const needsChromium = !unit && (!process.env.SPEC || new RegExp(process.env.SPEC).test('e2e/devices-browser.spec.js'))
if (needsChromium && !fs.existsSync(CHROMIUM)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (isRoot && has('apt-get')) {
    console.log('chromium is missing: installing it with apt-get')
    run('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'])
  }
  if (!fs.existsSync(CHROMIUM))
    console.error('chromium is missing: install it (sudo apt-get install chromium); the browser spec will fail')
}

// 3. Every *.spec.js under the compiled spec folder (with UNIT=1, those outside NEEDS_REDIS), in one uvu run.
const pattern = process.env.SPEC ? `(${process.env.SPEC}).*\\.spec\\.js$` : '\\.spec\\.js$'
// uvu's output is streamed as it comes (a run takes minutes: each suite's line shows as it runs) and kept, for the
// totals of its last lines.
const child = spawn(
  bin('uvu'),
  ['.spec-build/spec', pattern, '--no-color', ...(unit ? ['--ignore', NEEDS_REDIS] : [])],
  {
    cwd: root,
    // No colours: uvu's --no-color, and neither variable in its environment (uvu sets FORCE_COLOR=1 by default, and
    // Node warns at startup of a process that has NO_COLOR beside it).
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NO_COLOR' && k !== 'FORCE_COLOR')),
    stdio: ['ignore', 'pipe', 'inherit']
  }
)
let seen = ''
child.stdout.setEncoding('utf8')
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  seen = (seen + chunk).slice(-64 * 1024) // the totals are at the end
})
child.on('close', (status) => {
  const count = (label) => Number((new RegExp(`${label}:\\s+(\\d+)`).exec(seen) || [])[1] || 0)
  // uvu's Total already leaves skipped tests out.
  const total = count('Total')
  const passed = count('Passed')
  const skipped = count('Skipped')
  const failed = status === 0 ? total - passed : Math.max(1, total - passed)
  finish(passed, failed, skipped)
})
