#!/usr/bin/env node
// After docs-ts: the API reference in docs/modules must document exactly the public API, the names src/index.ts
// re-exports. docs-ts documents every export of every module under src/ (minus docs-ts.json's "exclude"), so a
// module export that is not re-exported from the root needs `@ignore` (or `@internal`) in its doc comment, and a
// module that src/index.ts does not reach belongs in "exclude".
'use strict'
const fs = require('fs')
const path = require('path')
const ts = require('typescript')

const root = path.join(__dirname, '..')

const walk = (dir) =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))

// Public names: the export specifiers of src/index.ts (it only re-exports, by name).
const indexFile = path.join(root, 'src', 'index.ts')
const index = ts.createSourceFile(indexFile, fs.readFileSync(indexFile, 'utf8'), ts.ScriptTarget.Latest)
const publicNames = new Set()
for (const statement of index.statements) {
  if (!ts.isExportDeclaration(statement)) continue
  if (statement.exportClause === undefined || !ts.isNamedExports(statement.exportClause)) {
    console.error('check-docs: src/index.ts has an `export *`; list the public names explicitly')
    process.exit(1)
  }
  for (const element of statement.exportClause.elements) publicNames.add(element.name.text)
}

// Documented names: docs-ts writes one `## name` (or `## name (interface)`, `(type alias)`, …) per item.
const documented = new Map()
for (const file of walk(path.join(root, 'docs', 'modules')).filter((f) => f.endsWith('.ts.md'))) {
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/^## (\S+)(?: \([a-z ]+\))?$/gm)) {
    if (!documented.has(m[1])) documented.set(m[1], path.relative(root, file))
  }
}

const extra = [...documented].filter(([name]) => !publicNames.has(name))
const missing = [...publicNames].filter((name) => !documented.has(name))
for (const [name, file] of extra) console.error(`check-docs: ${file} documents ${name}, which src/index.ts does not export: add @ignore to its doc comment`)
for (const name of missing) console.error(`check-docs: ${name} is exported by src/index.ts but not documented in docs/modules`)
if (extra.length > 0 || missing.length > 0) process.exit(1)
console.log(`check-docs: docs/modules documents exactly the ${publicNames.size} public names of src/index.ts`)
