#!/usr/bin/env node
// `npm test`: build, type-check the specs, make sure redis-server exists, run every uvu spec, and end with
// one line "N passed, N failed". Set SPEC=<regex> to run only matching spec files.
'use strict'
const { spawnSync } = require('child_process')
const path = require('path')

const root = path.resolve(__dirname, '..')
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
const bin = (name) => path.join(root, 'node_modules', '.bin', name)
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0

const finish = (passed, failed, skipped = 0) => {
  console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
  process.exit(failed === 0 && passed > 0 ? 0 : 1)
}

// 1. Build the package and compile the specs (this is also the type test of spec/types).
for (const [label, cmd, args] of [['build', 'npm', ['run', 'build', '--silent']], ['spec compile', bin('tsc'), ['-p', 'spec/tsconfig.json']]]) {
  if (run(cmd, args).status !== 0) {
    console.error(`${label} failed`)
    finish(0, 1)
  }
}

// 2. A real redis-server for the integration specs.
if (!has('redis-server')) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (isRoot && has('apt-get')) {
    console.log('redis-server is missing: installing it with apt-get')
    run('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null'])
  }
  if (!has('redis-server')) {
    console.error('redis-server is missing: install it (sudo apt-get install redis-server) and run npm test again')
    finish(0, 1)
  }
}

// 3. Every *.spec.js under the compiled spec folder, in one uvu run.
const out = spawnSync(bin('uvu'), ['.spec-build/spec', process.env.SPEC ? `(${process.env.SPEC}).*\\.spec\\.js$` : '\\.spec\\.js$'], {
  cwd: root,
  env: Object.fromEntries([...Object.entries(process.env).filter(([k]) => k !== 'FORCE_COLOR'), ['NO_COLOR', '1']]),
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024
})
process.stdout.write(out.stdout || '')
const count = (label) => Number((new RegExp(`${label}:\\s+(\\d+)`).exec(out.stdout || '') || [])[1] || 0)
// uvu's Total already leaves skipped tests out.
const total = count('Total')
const passed = count('Passed')
const skipped = count('Skipped')
const failed = out.status === 0 ? total - passed : Math.max(1, total - passed)
finish(passed, failed, skipped)
