import type { Diagnostic } from '../core/diagnostic.js';
import type { YaraSource } from '../core/intel.js';
import { findIncludes } from './yara-includes.js';
import { compileNative, nativeEngineAvailable } from './yara-native.js';
import type { CompiledYara, CompileOptions, YaraEngineChoice, YaraEngineName } from './yara-types.js';
import { compileWasm } from './yara-wasm.js';

/** The engine `choice` resolves to on this machine. */
export function resolveEngine(choice: YaraEngineChoice = 'auto'): YaraEngineName {
  if (choice === 'wasm') return 'wasm';
  if (nativeEngineAvailable()) return 'native';
  if (choice === 'native')
    throw new Error(
      'the native YARA-X engine (@litko/yara-x-linux-x64-gnu) is not installed for this platform',
    );
  return 'wasm';
}

/**
 * Compiles rule files, each in its own namespace. A file that does not compile is left out with a diagnostic
 * carrying its line and message; the others still load. A file without an `includeDir` (a pack's) that uses
 * `include` is left out before any engine sees it, and the native engine compiles such files with includes off.
 */
export function compileYara(sources: readonly YaraSource[], options: CompileOptions = {}): CompiledYara {
  if (sources.length === 0) return { accepted: [], diagnostics: [] };
  const timeoutMs = options.timeoutMs ?? 60_000;
  const refused: Diagnostic[] = [];
  const allowed = sources.filter((source) => {
    const include = source.includeDir === undefined ? findIncludes(source.text)[0] : undefined;
    if (include) refused.push(includeRefused(source.file, include));
    return !include;
  });
  const compiled =
    allowed.length === 0
      ? { accepted: [], diagnostics: [] }
      : resolveEngine(options.engine) === 'native'
        ? compileNative(allowed)
        : compileWasm(allowed, timeoutMs);
  return { ...compiled, diagnostics: [...refused, ...compiled.diagnostics] };
}

function includeRefused(
  file: string,
  include: { line: number; column: number; target?: string },
): Diagnostic {
  return {
    level: 'error',
    file,
    line: include.line,
    column: include.column,
    message: `include ${JSON.stringify(include.target ?? '')} is not allowed: a pack's rules may use only the pack's own files`,
  };
}
