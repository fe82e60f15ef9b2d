#!/usr/bin/env node
// After docs-ts: the API reference in docs/reference/modules must document exactly the public API, the names the package's
// entry points re-export (package.json "exports": ./dist/index.js is src/index.ts). docs-ts documents every export of
// every module under src/ (minus docs-ts.json's "exclude", where the entry points themselves are), so a module export
// that no entry point re-exports needs `@ignore` (or `@internal`) in its doc comment, and a module that no entry
// point reaches belongs in "exclude".
'use strict'
const fs = require('fs')
const path = require('path')
const ts = require('typescript')

const root = path.join(__dirname, '..')

const walk = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))

// Public names: the export specifiers of each entry point (they only re-export, by name).
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const targets = (t) =>
  typeof t === 'string' ? [t] : t !== null && typeof t === 'object' ? Object.values(t).flatMap(targets) : []
const entryPoints = [
  ...new Set(
    targets(pkg.exports)
      .filter((t) => /^\.\/dist\/.*\.js$/.test(t))
      .map((t) => path.join(root, 'src', t.slice('./dist/'.length).replace(/\.js$/, '.ts')))
  )
]
const publicNames = new Set()
for (const entry of entryPoints) {
  const source = ts.createSourceFile(entry, fs.readFileSync(entry, 'utf8'), ts.ScriptTarget.Latest)
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement)) continue
    if (statement.exportClause === undefined || !ts.isNamedExports(statement.exportClause)) {
      console.error(`check-docs: ${path.relative(root, entry)} has an \`export *\`; list the public names explicitly`)
      process.exit(1)
    }
    for (const element of statement.exportClause.elements) publicNames.add(element.name.text)
  }
}
const entryList = entryPoints.map((e) => path.relative(root, e)).join(', ')

// Documented names: docs-ts writes one `## name` (or `## name (interface)`, `(type alias)`, …) per item.
const documented = new Map()
for (const file of walk(path.join(root, 'docs', 'reference', 'modules')).filter((f) => f.endsWith('.ts.md'))) {
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/^## (\S+)(?: \([a-z ]+\))?$/gm)) {
    if (!documented.has(m[1])) documented.set(m[1], path.relative(root, file))
  }
}

const extra = [...documented].filter(([name]) => !publicNames.has(name))
const missing = [...publicNames].filter((name) => !documented.has(name))
for (const [name, file] of extra)
  console.error(
    `check-docs: ${file} documents ${name}, which no entry point (${entryList}) exports: add @ignore to its doc comment`
  )
for (const name of missing)
  console.error(`check-docs: ${name} is exported by ${entryList} but not documented in docs/reference/modules`)
if (extra.length > 0 || missing.length > 0) process.exit(1)
console.log(`check-docs: docs/reference/modules documents exactly the ${publicNames.size} public names of ${entryList}`)
