/**
 * Type-checks and emits one TypeScript file per program, in this process, with the TypeScript compiler API:
 * each file gets its own program (README blocks declare conflicting `SessionData` augmentations), and the
 * programs of one module mode share a compiler host that keeps the parsed .d.ts files of node_modules and
 * of TypeScript's lib, and the file system reads under them, so every program after the first is fast.
 */
import { dirname, join } from 'path'
import * as ts from 'typescript'

export type Mode = 'cjs' | 'esm'

/** A strict consumer: `.ts` files as CommonJS (moduleResolution node10), `.mts` files as ESM (nodenext). */
export const compilerOptions = (mode: Mode, cwd: string): ts.CompilerOptions => ({
  strict: true,
  noUncheckedIndexedAccess: false,
  skipLibCheck: true,
  esModuleInterop: true,
  forceConsistentCasingInFileNames: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
  typeRoots: [join(cwd, 'node_modules', '@types')],
  moduleDetection: ts.ModuleDetectionKind.Force,
  newLine: ts.NewLineKind.LineFeed,
  ...(mode === 'cjs'
    ? { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }
    : { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext })
})

export interface Compiled {
  /** Formatted errors (and warnings); '' when there are none. */
  readonly diagnostics: string
  /** The emitted JavaScript file, when the file type-checked and was emitted. */
  readonly output: string | undefined
  /**
   * The modules of its `import … from` declarations that are not type-only: TypeScript drops an import whose
   * bindings are only used in types (or not at all), so the JS may never load a module the source names.
   */
  readonly valueImports: ReadonlyArray<string>
  readonly ms: number
}

export interface Compiler {
  /** Type-checks `file` (`.ts` → cjs, `.mts` → esm) in a program of its own, and emits the JS next to it. */
  readonly compile: (file: string) => Compiled
}

/** Paths whose contents never change during a run: installed packages and TypeScript's lib files. */
const stable = (path: string, libDir: string): boolean => path.includes('/node_modules/') || path.startsWith(libDir)

const memo = <A>(f: (path: string) => A, libDir: string): ((path: string) => A) => {
  const cache = new Map<string, A>()
  return (path) => {
    if (!stable(path, libDir)) return f(path)
    const hit = cache.get(path)
    if (hit !== undefined || cache.has(path)) return hit as A
    const value = f(path)
    cache.set(path, value)
    return value
  }
}

const valueImports = (source: ts.SourceFile): Array<string> =>
  source.statements.flatMap((s) => {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier)) return []
    const clause = s.importClause
    if (clause?.isTypeOnly === true) return []
    const named = clause?.namedBindings
    const onlyTypes =
      clause !== undefined &&
      clause.name === undefined &&
      named !== undefined &&
      ts.isNamedImports(named) &&
      named.elements.every((e) => e.isTypeOnly)
    return onlyTypes ? [] : [s.moduleSpecifier.text]
  })

/**
 * Compilers for the files under `cwd` (a project with node_modules); `overrides` change `compilerOptions` for
 * every file (`skipLibCheck: false`, decorators).
 */
export const makeCompiler = (cwd: string, overrides: ts.CompilerOptions = {}): Compiler => {
  const libDir = dirname(ts.getDefaultLibFilePath({}))
  const fileExists = memo((p) => ts.sys.fileExists(p), libDir)
  const directoryExists = memo((p) => ts.sys.directoryExists(p), libDir)
  const readFile = memo((p) => ts.sys.readFile(p), libDir)
  const hosts = new Map<Mode, { options: ts.CompilerOptions; host: ts.CompilerHost }>()

  const hostFor = (mode: Mode): { options: ts.CompilerOptions; host: ts.CompilerHost } => {
    const existing = hosts.get(mode)
    if (existing !== undefined) return existing
    const options = { ...compilerOptions(mode, cwd), ...overrides }
    const base = ts.createCompilerHost(options)
    // A parsed declaration file depends on the options (one host per mode) and on how the program asks for it.
    const sourceFiles = new Map<string, ts.SourceFile>()
    const host: ts.CompilerHost = {
      ...base,
      getCurrentDirectory: () => cwd,
      fileExists,
      directoryExists,
      readFile,
      getSourceFile: (fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile) => {
        if (!stable(fileName, libDir) || !/\.d\.[cm]?ts$/.test(fileName))
          return base.getSourceFile(fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile)
        const how =
          typeof languageVersionOrOptions === 'object'
            ? `${languageVersionOrOptions.languageVersion}:${String(languageVersionOrOptions.impliedNodeFormat)}`
            : String(languageVersionOrOptions)
        const key = `${how}|${fileName}`
        const hit = sourceFiles.get(key)
        if (hit !== undefined) return hit
        const file = base.getSourceFile(fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile)
        if (file !== undefined) sourceFiles.set(key, file)
        return file
      }
    }
    const made = { options, host }
    hosts.set(mode, made)
    return made
  }

  const formatHost: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => cwd,
    getNewLine: () => '\n'
  }

  const compile = (file: string): Compiled => {
    const started = performance.now()
    const mode: Mode = file.endsWith('.mts') ? 'esm' : 'cjs'
    const { options, host } = hostFor(mode)
    const program = ts.createProgram({ rootNames: [file], options, host })
    const source = program.getSourceFile(file)
    const diagnostics = [...ts.getPreEmitDiagnostics(program)]
    const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error)
    let output: string | undefined
    if (errors.length === 0 && source !== undefined) {
      const emitted: Array<string> = []
      const result = program.emit(source, (name, text, bom) => {
        host.writeFile(name, text, bom)
        emitted.push(name)
      })
      diagnostics.push(...result.diagnostics)
      output = result.emitSkipped ? undefined : emitted.find((n) => /\.[cm]?js$/.test(n))
    }
    return {
      diagnostics: diagnostics.length === 0 ? '' : ts.formatDiagnostics(diagnostics, formatHost),
      output,
      valueImports: source === undefined ? [] : valueImports(source),
      ms: performance.now() - started
    }
  }
  return { compile }
}
