// The root export list, values and types, as the built declaration file has it, is exactly the pinned one
// (spec/types/exports.ts). The value half is also a compile-time check there.
import { readFileSync } from 'fs'
import { join, resolve } from 'path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PINNED_MEMORY_TYPES, PINNED_MEMORY_VALUES, PINNED_TYPES, PINNED_VALUES } from './types/exports'

const root = resolve(__dirname, '..', '..')

const exportsOf = (dts: string): { values: Array<string>; types: Array<string> } => {
  const values: Array<string> = []
  const types: Array<string> = []
  for (const m of dts.matchAll(/export (type )?\{([^}]*)\} from/g)) {
    for (const raw of (m[2] ?? '').split(',')) {
      const name = raw.trim()
      if (name === '') continue
      const isType = m[1] !== undefined || name.startsWith('type ')
      ;(isType ? types : values).push(name.replace(/^type /, ''))
    }
  }
  return { values: values.sort(), types: types.sort() }
}

test('dist/index.d.ts exports exactly the pinned values and types', () => {
  const { values, types } = exportsOf(readFileSync(join(root, 'dist', 'index.d.ts'), 'utf8'))
  assert.equal(values, [...PINNED_VALUES].sort(), 'value exports')
  assert.equal(types, [...PINNED_TYPES].sort(), 'type exports')
})

test('dist/memory.d.ts (connect-redis-session/memory) exports exactly its pinned values and types', () => {
  const { values, types } = exportsOf(readFileSync(join(root, 'dist', 'memory.d.ts'), 'utf8'))
  assert.equal(values, [...PINNED_MEMORY_VALUES].sort(), 'value exports')
  assert.equal(types, [...PINNED_MEMORY_TYPES].sort(), 'type exports')
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built CommonJS module, as a user loads it
  const runtime = Object.keys(require(join(root, 'dist', 'memory.js')) as object).filter((k) => k !== '__esModule')
  assert.equal(runtime.sort(), [...PINNED_MEMORY_VALUES].sort())
})

test('the runtime module exports exactly the pinned values', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built CommonJS module, as a user loads it
  const runtime = Object.keys(require(join(root, 'dist', 'index.js')) as object).filter((k) => k !== '__esModule')
  assert.equal(runtime.sort(), [...PINNED_VALUES].sort())
})

/** Words in backticks in the Exports section of docs/api.md that are not export names. */
const NOT_EXPORTS = new Set([
  'connect',
  'corrupt',
  'disconnect',
  'warning',
  'whenDisconnected',
  'instanceof',
  'process',
  'docs',
  'npm',
  'spec',
  'fromIoRedis',
  'fromIoRedisCluster',
  'IoRedisClusterClient',
  'IoRedisClient',
  'IoRedisScan',
  'IoRedisScanReply'
])

test("docs/api.md's Exports section names every export, and nothing that is not one", () => {
  const guide = readFileSync(join(root, 'docs', 'api.md'), 'utf8')
  const start = guide.indexOf('\n## Exports\n')
  const next = guide.indexOf('\n## ', start + 1)
  assert.ok(start >= 0, 'docs/api.md has an Exports section')
  const section = guide.slice(start, next < 0 ? undefined : next)
  const named = new Set([...section.matchAll(/`([A-Za-z_$][\w$]*)/g)].map((m) => m[1] as string))
  const pinned = new Set<string>([...PINNED_VALUES, ...PINNED_TYPES, ...PINNED_MEMORY_VALUES, ...PINNED_MEMORY_TYPES])
  assert.equal([...pinned].filter((n) => !named.has(n)).sort(), [], 'exports docs/api.md does not name')
  assert.equal(
    [...named].filter((n) => !pinned.has(n) && !NOT_EXPORTS.has(n)).sort(),
    [],
    'names in docs/api.md that are not exported'
  )
})

test.run()
