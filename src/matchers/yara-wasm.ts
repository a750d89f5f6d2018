import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Compiler, initSync, type Rules, type Scanner } from '@virustotal/yara-x';
import { z } from 'zod';
import type { Diagnostic } from '../core/diagnostic.js';
import type { YaraSource } from '../core/intel.js';
import {
  type CompiledYara,
  externalsIn,
  toDiagnostic,
  YARA_EXTERNALS,
  type YaraExternal,
  type YaraRules,
  YaraTimeoutError,
} from './yara-types.js';

/** Above this much WebAssembly memory, the thread asks to be replaced (the JS build of yara-x leaks per scan). */
const RECYCLE_WASM_BYTES = 384 * 1024 * 1024;

/** The part of WebAssembly.Memory we read. */
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}

let memory: WasmMemory | undefined;
function initWasm(): WasmMemory {
  if (memory) return memory;
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('@virustotal/yara-x/package.json'));
  const initialised: WasmMemory = initSync({
    module: readFileSync(join(pkg, 'pkg', 'yara_x_js_bg.wasm')),
  }).memory;
  memory = initialised;
  return initialised;
}

/** Compiles with the official WebAssembly build of YARA-X; every file in its own namespace. */
export function compileWasm(sources: readonly YaraSource[], timeoutMs: number): CompiledYara {
  const wasmMemory = initWasm();
  const diagnostics: Diagnostic[] = [];
  const accepted: YaraSource[] = [];
  let compiler = newCompiler();
  for (const source of sources) {
    const warningsBefore = compiler.warnings.length;
    try {
      compiler.newNamespace(source.namespace);
      compiler.addSource(source.text);
      accepted.push(source);
      for (const warning of compiler.warnings.slice(warningsBefore))
        diagnostics.push(toDiagnostic(warning, source.file, 'warning'));
    } catch (error) {
      const first = String((error as Error).message ?? error).split(/\n\s*\n(?=error)/)[0] ?? '';
      diagnostics.push(toDiagnostic(first, source.file, 'error'));
    }
  }
  if (accepted.length < sources.length) {
    // A failed addSource leaves its errors in the compiler and build() would refuse; start again with the good files.
    compiler.free();
    compiler = newCompiler();
    for (const source of accepted) {
      compiler.newNamespace(source.namespace);
      compiler.addSource(source.text);
    }
  }
  if (accepted.length === 0) {
    compiler.free();
    return { accepted, diagnostics };
  }
  const rules = compiler.build();
  compiler.free();
  const externalsUsed = externalsIn(accepted.map((s) => s.text));
  return { rules: wrapRules(rules, externalsUsed, timeoutMs, wasmMemory), accepted, diagnostics };
}

function newCompiler(): Compiler {
  const compiler = new Compiler();
  for (const name of YARA_EXTERNALS) compiler.defineGlobal(name, '');
  return compiler;
}

const MetaValue = z.union([z.string(), z.number(), z.boolean()]);
const ScanResultSchema = z.object({
  matches: z.array(
    z.object({
      identifier: z.string(),
      namespace: z.string(),
      tags: z.array(z.string()),
      metadata: z.array(z.object({ identifier: z.string(), value: z.unknown() })),
      patterns: z.array(
        z.object({
          identifier: z.string(),
          matches: z.array(z.object({ offset: z.number(), length: z.number() })),
        }),
      ),
    }),
  ),
});

function wrapRules(
  rules: Rules,
  externalsUsed: Set<YaraExternal>,
  timeoutMs: number,
  wasmMemory: WasmMemory,
): YaraRules {
  const scanner: Scanner = rules.scanner();
  scanner.setTimeoutMs(timeoutMs);
  return {
    engine: 'wasm',
    externalsUsed,
    scan(bytes, externals) {
      for (const name of externalsUsed) scanner.setGlobal(name, externals[name] ?? '');
      let raw: unknown;
      try {
        raw = scanner.scan(bytes);
      } catch (error) {
        const message = String((error as Error).message ?? error);
        if (/timeout|timed out/i.test(message))
          throw new YaraTimeoutError(`YARA scan timed out after ${timeoutMs} ms`);
        throw error;
      }
      return ScanResultSchema.parse(raw).matches.map((m) => ({
        rule: m.identifier,
        namespace: m.namespace,
        tags: m.tags,
        meta: Object.fromEntries(
          m.metadata.flatMap((entry) => {
            const value = MetaValue.safeParse(entry.value);
            return value.success ? [[entry.identifier, value.data]] : [];
          }),
        ),
        strings: m.patterns
          .filter((p) => p.matches.length > 0)
          .map((p) => ({ id: p.identifier, offsets: p.matches.map((x) => x.offset) })),
      }));
    },
    wantsRecycle: () => wasmMemory.buffer.byteLength > RECYCLE_WASM_BYTES,
    dispose() {
      scanner.free();
      rules.free();
    },
  };
}
