import type { YaraSource } from '../packs/intel.js';
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
 * carrying its line and message; the others still load.
 */
export function compileYara(sources: readonly YaraSource[], options: CompileOptions = {}): CompiledYara {
  if (sources.length === 0) return { accepted: [], diagnostics: [] };
  const timeoutMs = options.timeoutMs ?? 60_000;
  return resolveEngine(options.engine) === 'native'
    ? compileNative(sources)
    : compileWasm(sources, timeoutMs);
}
