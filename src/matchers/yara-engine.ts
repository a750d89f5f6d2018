import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Compiler, initSync, type Rules, type Scanner } from '@virustotal/yara-x';
import { z } from 'zod';
import type { Diagnostic } from '../core/diagnostic.js';
import type { YaraSource } from '../packs/intel.js';

/** The external variables Loki and THOR define, so public rule sets that use them compile. */
export const YARA_EXTERNALS = ['filename', 'filepath', 'extension', 'filetype', 'owner', 'md5'] as const;
export type YaraExternal = (typeof YARA_EXTERNALS)[number];
export type YaraExternalValues = Partial<Record<YaraExternal, string>>;

/** One rule that matched, with where its strings matched. */
export interface YaraMatch {
  rule: string;
  namespace: string;
  tags: string[];
  meta: Record<string, string | number | boolean>;
  strings: { id: string; offsets: number[] }[];
}

/** Compiled rules ready to scan buffers on this thread. */
export interface YaraRules {
  /** The externals at least one rule refers to (the others are never set per file). */
  readonly externalsUsed: ReadonlySet<YaraExternal>;
  /** Scans `bytes`; throws YaraTimeoutError when the per-file time limit is hit. */
  scan(bytes: Uint8Array, externals: YaraExternalValues): YaraMatch[];
  dispose(): void;
}

export class YaraTimeoutError extends Error {}

export interface CompiledYara {
  rules?: YaraRules;
  /** Sources that compiled; the others have an error diagnostic. */
  accepted: YaraSource[];
  diagnostics: Diagnostic[];
}

let initialised = false;
function initWasm(): void {
  if (initialised) return;
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('@virustotal/yara-x/package.json'));
  initSync({ module: readFileSync(join(pkg, 'pkg', 'yara_x_js_bg.wasm')) });
  initialised = true;
}

/**
 * Compiles rule files, each in its own namespace. A file that does not compile is left out with a diagnostic
 * carrying its line and message; the others still load.
 */
export function compileYara(
  sources: readonly YaraSource[],
  options: { timeoutMs?: number } = {},
): CompiledYara {
  if (sources.length === 0) return { accepted: [], diagnostics: [] };
  initWasm();
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
  const text = accepted.map((s) => s.text).join('\n');
  const externalsUsed = new Set(
    YARA_EXTERNALS.filter((name) => new RegExp(`(?<![.\\w$])${name}\\b`).test(text)),
  );
  return { rules: wrapRules(rules, externalsUsed, options.timeoutMs ?? 60_000), accepted, diagnostics };
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

function wrapRules(rules: Rules, externalsUsed: Set<YaraExternal>, timeoutMs: number): YaraRules {
  const scanner: Scanner = rules.scanner();
  scanner.setTimeoutMs(timeoutMs);
  return {
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
      const parsed = ScanResultSchema.parse(raw);
      return parsed.matches.map((m) => ({
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
    dispose() {
      scanner.free();
      rules.free();
    },
  };
}

/** Reads yara-x's `error[E025]: message --> line:3:13` text into a diagnostic for `file`. */
export function toDiagnostic(text: string, file: string, level: 'error' | 'warning'): Diagnostic {
  const head = /^(?:error|warning)(?:\[([A-Za-z0-9_]+)\])?:\s*(.*)$/m.exec(text);
  const where = /-->\s*line:(\d+):(\d+)/.exec(text);
  const code = head?.[1] ? `[${head[1]}] ` : '';
  const message = `${code}${head?.[2] ?? text.split('\n')[0] ?? text}`.trim();
  return {
    level,
    file,
    message,
    ...(where ? { line: Number(where[1]), column: Number(where[2]) } : {}),
  };
}
