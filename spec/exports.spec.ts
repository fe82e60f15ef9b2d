// Every entry point of package.json "exports" exports exactly its pinned list (spec/types/exports.ts): the values and
// types of the built .d.ts, and the keys of the loaded CommonJS module. Loading the toolkit entries loads no
// express-session: a custom store built from `connect-redis-session/operations` does not drag in the Express facade.
import { spawnSync } from 'child_process'
import { readFileSync } from 'fs'
import { join, resolve } from 'path'
import * as ts from 'typescript'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ENTRIES } from './types/exports'

const root = resolve(__dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  readonly exports: Record<string, string | { readonly types: string; readonly default: string }>
}

/** The names a declaration file exports, split into values and types (re-exports and declarations alike). */
const exportsOf = (file: string): { values: Array<string>; types: Array<string> } => {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest)
  const values: Array<string> = []
  const types: Array<string> = []
  const exported = (s: ts.Statement): boolean =>
    ts.canHaveModifiers(s) && (ts.getModifiers(s) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  for (const s of source.statements) {
    if (ts.isExportDeclaration(s) && s.exportClause !== undefined && ts.isNamedExports(s.exportClause)) {
      for (const e of s.exportClause.elements) (s.isTypeOnly || e.isTypeOnly ? types : values).push(e.name.text)
    } else if (ts.isExportDeclaration(s)) {
      assert.unreachable(`${file} has an \`export *\`: list the public names explicitly`)
    } else if (exported(s)) {
      if (ts.isVariableStatement(s)) s.declarationList.declarations.forEach((d) => values.push(d.name.getText(source)))
      else if (ts.isFunctionDeclaration(s) && s.name !== undefined) values.push(s.name.text)
      else if (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) types.push(s.name.text)
    }
  }
  return { values: values.sort(), types: types.sort() }
}

test('package.json "exports" has exactly the pinned entry points (and ./package.json)', () => {
  assert.equal(Object.keys(pkg.exports).sort(), [...Object.keys(ENTRIES), './package.json'].sort())
})

for (const [entry, pinned] of Object.entries(ENTRIES)) {
  test(`${entry}: the built .d.ts and the loaded module export exactly the pinned names`, () => {
    const target = pkg.exports[entry]
    assert.ok(typeof target === 'object', `${entry} has types and default`)
    const { values, types } = exportsOf(join(root, target.types))
    assert.equal(values, [...pinned.values].sort(), `${entry}: value exports`)
    assert.equal(types, [...pinned.types].sort(), `${entry}: type exports`)
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built CommonJS module, as a user loads it
    const runtime = Object.keys(require(join(root, target.default)) as object).filter((k) => k !== '__esModule')
    assert.equal(runtime.sort(), [...pinned.values].sort(), `${entry}: runtime exports`)
  })
}

test('the package root has at most 15 runtime values', () => {
  assert.ok(ENTRIES['.'].values.length <= 15, `the root exports ${ENTRIES['.'].values.length} values`)
})

/** The packages a fresh Node process has loaded after requiring `file`. */
const packagesLoadedBy = (file: string): Array<string> => {
  const script = `require(${JSON.stringify(file)}); console.log(JSON.stringify(Object.keys(require.cache)))`
  const out = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })
  assert.is(out.status, 0, out.stderr)
  const loaded = JSON.parse(out.stdout) as Array<string>
  return [...new Set(loaded.flatMap((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1] ?? []))].sort()
}

test('loading connect-redis-session/operations loads no express-session (nor express, nor io-ts)', () => {
  const packages = packagesLoadedBy(join(root, 'dist', 'operations', 'index.js'))
  for (const unwanted of ['express-session', 'express', 'io-ts'])
    assert.not.ok(packages.includes(unwanted), `/operations loaded ${unwanted} (${packages.join(', ')})`)
  assert.ok(packages.includes('fp-ts'), 'the check sees packages at all')
})

test('loading connect-redis-session/client and /errors loads no express-session', () => {
  for (const file of [join(root, 'dist', 'client', 'index.js'), join(root, 'dist', 'errors.js')]) {
    const packages = packagesLoadedBy(file)
    assert.not.ok(packages.includes('express-session'), `${file} loaded express-session (${packages.join(', ')})`)
  }
})

test('the root loads express-session (the control: the check can see it)', () => {
  assert.ok(packagesLoadedBy(join(root, 'dist', 'index.js')).includes('express-session'))
})

test.run()
