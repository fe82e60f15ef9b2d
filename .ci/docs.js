#!/usr/bin/env node
// `npm run docs`: docs-ts writes the API reference to docs/reference (docs-ts.json "outDir"; not committed, beside
// the hand-written guides of docs/), then .ci/check-docs.js checks it documents exactly the public API.
// docs-ts rewrites the package name in each @example to '../../src', relative to <outDir>/examples, so with an
// outDir two levels deep the examples would import docs/src: a symlink docs/src -> ../src stands in while docs-ts
// runs, and is removed afterwards.
'use strict'
const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')
const config = JSON.parse(fs.readFileSync(path.join(root, 'docs-ts.json'), 'utf8'))
const link = path.join(root, path.dirname(config.outDir), 'src')
const made = !fs.existsSync(link)
if (made) fs.mkdirSync(path.dirname(link), { recursive: true })
if (made) fs.symlinkSync(path.relative(path.dirname(link), path.join(root, 'src')), link, 'dir')
let status
try {
  status = spawnSync(path.join(root, 'node_modules', '.bin', 'docs-ts'), [], { cwd: root, stdio: 'inherit' }).status
} finally {
  if (made) fs.unlinkSync(link)
}
if (status !== 0) process.exit(status ?? 1)
require('./check-docs.js')
