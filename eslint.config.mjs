// Lint: typescript-eslint's recommended rules, no import cycles, and the architecture rule that only the
// express-session facade (src/express/) may load express-session at run time (type imports are fine).
import js from '@eslint/js'
import importX, { createNodeResolver } from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', '.spec-build/', 'node_modules/', 'docs/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }
      ],
      // An empty catch that says why is fine; an empty block elsewhere is not.
      'no-empty': ['error', { allowEmptyCatch: true }]
    }
  },
  {
    files: ['src/**/*.ts', 'spec/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] }
    },
    rules: { 'import-x/no-cycle': 'error' }
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/express/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'express-session',
              message: 'Only src/express/ may load express-session at run time (use import type).',
              allowTypeImports: true
            }
          ]
        }
      ]
    }
  },
  {
    // Node scripts in CommonJS (the spec runner, the benchmark, the demo).
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: Object.fromEntries(
        [
          'require',
          'module',
          'exports',
          '__dirname',
          '__filename',
          'process',
          'console',
          'Buffer',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'setImmediate',
          'performance',
          'fetch',
          'URL',
          'AbortController'
        ].map((g) => [g, 'readonly'])
      )
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  },
  {
    files: ['spec/**/*.ts'],
    rules: {
      // Specs build hostile values and fakes on purpose.
      '@typescript-eslint/no-explicit-any': 'off'
    }
  }
)
