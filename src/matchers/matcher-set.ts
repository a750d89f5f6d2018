import type { Diagnostic } from '../core/diagnostic.js';
import type { IntelSet } from '../core/intel.js';
import { FilenameMatcher } from './filename-matcher.js';
import { HashMatcher } from './hash-matcher.js';
import { compileYara } from './yara-engine.js';
import type { YaraEngineChoice, YaraRules } from './yara-types.js';

/** Every file matcher compiled from one IntelSet; built once per thread. */
export interface MatcherSet {
  hashes: HashMatcher;
  names: FilenameMatcher;
  yara: YaraRules | undefined;
  dispose(): void;
}

/** Compiles the intel into matchers; rule files that do not compile are reported and left out. */
export function buildMatchers(
  intel: IntelSet,
  options: { yaraTimeoutMs?: number; yaraEngine?: YaraEngineChoice } = {},
): { matchers: MatcherSet; diagnostics: Diagnostic[] } {
  const compiled = compileYara(intel.yara, {
    ...(options.yaraTimeoutMs ? { timeoutMs: options.yaraTimeoutMs } : {}),
    ...(options.yaraEngine ? { engine: options.yaraEngine } : {}),
  });
  const yara = compiled.rules;
  return {
    matchers: {
      hashes: new HashMatcher(intel.indicators),
      names: new FilenameMatcher(intel.indicators),
      yara,
      dispose: () => yara?.dispose(),
    },
    diagnostics: compiled.diagnostics,
  };
}
