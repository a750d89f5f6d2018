import { createRequire } from 'node:module';
import type { Diagnostic } from '../core/diagnostic.js';
import type { YaraSource } from '../packs/intel.js';
import { ruleNamesOf } from './yara-rule-names.js';
import {
  type CompiledYara,
  externalsIn,
  toDiagnostic,
  YARA_EXTERNALS,
  type YaraMatch,
  type YaraRules,
} from './yara-types.js';

/** The slice of the `@litko/yara-x` N-API binding (YARA-X 1.7) that we use. */
interface NativeBinding {
  compile(source: string, options?: { defineVariables?: Record<string, string> }): NativeRules;
  validate(
    source: string,
    options?: { defineVariables?: Record<string, string> },
  ): { errors: { message: string }[]; warnings: { message: string }[] };
}
interface NativeRules {
  scan(data: Uint8Array, variables?: Record<string, string>): NativeMatch[];
}
interface NativeMatch {
  ruleIdentifier: string;
  meta: Record<string, unknown>;
  tags: string[];
  matches: { offset: number; identifier: string }[];
}

let binding: NativeBinding | null | undefined;
function loadBinding(): NativeBinding | null {
  if (binding === undefined) {
    try {
      binding = createRequire(import.meta.url)('@litko/yara-x') as NativeBinding;
    } catch {
      binding = null;
    }
  }
  return binding;
}

/** True when the native engine loads on this platform (an optional dependency, published for Linux x64). */
export function nativeEngineAvailable(): boolean {
  return loadBinding() !== null;
}

const VARIABLES: Record<string, string> = Object.fromEntries(YARA_EXTERNALS.map((name) => [name, '']));

/**
 * Compiles with the native YARA-X binding. It has no namespaces, so files are checked one by one, then joined
 * into as few groups as keep every rule name unique (a file with a `global` rule stays alone, as its namespace
 * would keep it); each group is one compiled rule set, and matches are mapped back to their file.
 */
export function compileNative(sources: readonly YaraSource[]): CompiledYara {
  const native = loadBinding();
  if (!native) throw new Error('the native YARA-X engine is not installed');
  const diagnostics: Diagnostic[] = [];
  const accepted: YaraSource[] = [];
  const groups: { sources: YaraSource[]; names: Map<string, YaraSource>; alone: boolean }[] = [];

  for (const source of sources) {
    const result = native.validate(source.text, { defineVariables: VARIABLES });
    if (result.errors.length > 0) {
      diagnostics.push(toDiagnostic(result.errors[0]?.message ?? 'does not compile', source.file, 'error'));
      continue;
    }
    for (const warning of result.warnings)
      diagnostics.push(toDiagnostic(warning.message, source.file, 'warning'));
    accepted.push(source);
    const { names, hasGlobal } = ruleNamesOf(source.text);
    let group = hasGlobal ? undefined : groups.find((g) => !g.alone && names.every((n) => !g.names.has(n)));
    if (!group) {
      group = { sources: [], names: new Map(), alone: hasGlobal };
      groups.push(group);
    }
    group.sources.push(source);
    for (const name of names) group.names.set(name, source);
  }
  if (accepted.length === 0) return { accepted, diagnostics };

  const compiled = groups.map((g) => ({
    rules: native.compile(g.sources.map((s) => s.text).join('\n'), { defineVariables: VARIABLES }),
    names: g.names,
  }));
  const externalsUsed = externalsIn(accepted.map((s) => s.text));
  const rules: YaraRules = {
    engine: 'native',
    externalsUsed,
    scan(bytes, externals) {
      const variables = externalsUsed.size
        ? Object.fromEntries([...externalsUsed].map((n) => [n, externals[n] ?? '']))
        : undefined;
      const found: YaraMatch[] = [];
      for (const group of compiled) {
        for (const m of group.rules.scan(bytes, variables)) {
          const byId = new Map<string, number[]>();
          for (const hit of m.matches)
            byId.set(hit.identifier, [...(byId.get(hit.identifier) ?? []), hit.offset]);
          found.push({
            rule: m.ruleIdentifier,
            namespace: group.names.get(m.ruleIdentifier)?.namespace ?? 'default',
            tags: m.tags,
            meta: Object.fromEntries(
              Object.entries(m.meta).filter((e): e is [string, string | number | boolean] =>
                ['string', 'number', 'boolean'].includes(typeof e[1]),
              ),
            ),
            strings: [...byId].map(([id, offsets]) => ({ id, offsets })),
          });
        }
      }
      return found;
    },
    wantsRecycle: () => false,
    dispose: () => {},
  };
  return { rules, accepted, diagnostics };
}
