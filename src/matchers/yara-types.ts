import type { Diagnostic } from '../core/diagnostic.js';
import type { YaraSource } from '../core/intel.js';

/** The external variables Loki and THOR define, so public rule sets that use them compile. */
export const YARA_EXTERNALS = ['filename', 'filepath', 'extension', 'filetype', 'owner', 'md5'] as const;
export type YaraExternal = (typeof YARA_EXTERNALS)[number];
export type YaraExternalValues = Partial<Record<YaraExternal, string>>;

/**
 * Which YARA-X build runs the rules: `native` (the N-API binding, Linux and macOS), `wasm` (the official
 * WebAssembly build, everywhere, ~5 ms per file and growing memory), or `auto` (native where it loads). Neither
 * stops a long scan by itself; the sweep worker's watchdog (yara-watchdog.ts) enforces the per-file limit on both.
 */
export type YaraEngineChoice = 'auto' | 'native' | 'wasm';
export type YaraEngineName = 'native' | 'wasm';

/** One rule that matched, with where its strings matched. */
export interface YaraMatch {
  rule: string;
  /** The namespace of the source file the rule came from. */
  namespace: string;
  tags: string[];
  meta: Record<string, string | number | boolean>;
  strings: { id: string; offsets: number[] }[];
}

/** Compiled rules ready to scan buffers on this thread. */
export interface YaraRules {
  readonly engine: YaraEngineName;
  /** The externals at least one rule refers to (the others are never set per file). */
  readonly externalsUsed: ReadonlySet<YaraExternal>;
  /** Scans `bytes`; throws YaraTimeoutError if the engine's own time limit fires (the watchdog is the backstop). */
  scan(bytes: Uint8Array, externals: YaraExternalValues): YaraMatch[];
  /** True when the engine has grown enough that this thread should be replaced. */
  wantsRecycle(): boolean;
  dispose(): void;
}

export class YaraTimeoutError extends Error {}

export interface CompiledYara {
  rules?: YaraRules;
  /** Sources that compiled; the others have an error diagnostic. */
  accepted: YaraSource[];
  diagnostics: Diagnostic[];
}

export interface CompileOptions {
  engine?: YaraEngineChoice;
  timeoutMs?: number;
}

/** Which externals the rule texts refer to (a match inside a string only costs a needless setGlobal). */
export function externalsIn(texts: readonly string[]): Set<YaraExternal> {
  const text = texts.join('\n');
  return new Set(YARA_EXTERNALS.filter((name) => new RegExp(`(?<![.\\w$])${name}\\b`).test(text)));
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
