import { createRequire } from 'node:module';
import type { Diagnostic } from '../core/diagnostic.js';
import type { YaraSource } from '../core/intel.js';
import { findIncludes } from './yara-includes.js';
import { ruleNamesOf } from './yara-rule-names.js';
import {
  type CompiledYara,
  externalsIn,
  toDiagnostic,
  YARA_EXTERNALS,
  type YaraMatch,
  type YaraRules,
} from './yara-types.js';

/** The slice of the `@litko/yara-x` N-API binding (YARA-X 1.7, Linux x64 build) that we use. */
interface NativeBinding {
  compile(source: string, options?: NativeOptions): NativeRules;
  validate(
    source: string,
    options?: NativeOptions,
  ): { errors: { message: string }[]; warnings: { message: string }[] };
}
/** Compiler options of the binding: includes are on unless `enableIncludes` is false. */
interface NativeOptions {
  defineVariables?: Record<string, string>;
  enableIncludes?: boolean;
  includeDirectories?: string[];
}
interface NativeRules {
  getWarnings(): { message: string }[];
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
      binding = createRequire(import.meta.url)('@litko/yara-x-linux-x64-gnu') as NativeBinding;
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
/** How every file is compiled unless it is the user's own and uses `include`. */
const NO_INCLUDES: NativeOptions = { defineVariables: VARIABLES, enableIncludes: false };

/** A user's rule file with include statements compiles alone, its includes resolved in its own folder. */
function optionsFor(source: YaraSource): NativeOptions | undefined {
  if (source.includeDir === undefined || findIncludes(source.text).length === 0) return undefined;
  return { defineVariables: VARIABLES, includeDirectories: [source.includeDir] };
}

/**
 * Compiles with the native YARA-X binding. It has no namespaces, so files are joined into as few groups as keep
 * every rule name unique (a file with a `global` rule stays alone, as its namespace would keep it); each group is
 * one compiled rule set, and matches are mapped back to their file. A group that fails to compile is checked file
 * by file, so one bad file costs only itself. Includes are off, except in a user's file that has them (alone).
 */
export function compileNative(sources: readonly YaraSource[]): CompiledYara {
  const native = loadBinding();
  if (!native) throw new Error('the native YARA-X engine is not installed');
  const diagnostics: Diagnostic[] = [];
  const compiled: { rules: NativeRules; names: Map<string, YaraSource> }[] = [];
  const accepted = new Set<YaraSource>();

  const compileGroup = (group: YaraSource[], options = NO_INCLUDES): boolean => {
    try {
      const rules = native.compile(group.map((s) => s.text).join('\n'), options);
      for (const warning of rules.getWarnings()) diagnostics.push(warningInGroup(warning.message, group));
      const names = new Map<string, YaraSource>();
      for (const source of group) for (const name of ruleNamesOf(source.text).names) names.set(name, source);
      compiled.push({ rules, names });
      for (const source of group) accepted.add(source);
      return true;
    } catch {
      return false;
    }
  };

  const grouped: YaraSource[] = [];
  for (const source of sources) {
    const options = optionsFor(source);
    if (!options) grouped.push(source);
    else if (!compileGroup([source], options)) {
      const error = native.validate(source.text, options).errors[0];
      diagnostics.push(toDiagnostic(error?.message ?? 'does not compile', source.file, 'error'));
    }
  }
  for (const group of groupByRuleNames(grouped)) {
    if (compileGroup(group)) continue;
    const good = group.filter((source) => {
      const result = native.validate(source.text, NO_INCLUDES);
      const error = result.errors[0];
      if (error) diagnostics.push(toDiagnostic(error.message, source.file, 'error'));
      return !error;
    });
    // Files that compile alone but not together (a clash the name scan missed) are compiled one by one.
    if (good.length && !compileGroup(good)) for (const source of good) compileGroup([source]);
  }
  if (accepted.size === 0) return { accepted: [], diagnostics };
  const externalsUsed = externalsIn([...accepted].map((s) => s.text));
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
  return { rules, accepted: sources.filter((s) => accepted.has(s)), diagnostics };
}

/** Groups files so that no group declares a rule name twice; a file with a global rule gets a group of its own. */
function groupByRuleNames(sources: readonly YaraSource[]): YaraSource[][] {
  const groups: { sources: YaraSource[]; names: Set<string>; alone: boolean }[] = [];
  for (const source of sources) {
    const { names, hasGlobal } = ruleNamesOf(source.text);
    let group = hasGlobal ? undefined : groups.find((g) => !g.alone && names.every((n) => !g.names.has(n)));
    if (!group) {
      group = { sources: [], names: new Set(), alone: hasGlobal };
      groups.push(group);
    }
    group.sources.push(source);
    for (const name of names) group.names.add(name);
  }
  return groups.map((g) => g.sources);
}

/** A warning from a joined group, pointed back at its own file and line. */
function warningInGroup(message: string, group: readonly YaraSource[]): Diagnostic {
  const diagnostic = toDiagnostic(message, group[0]?.file ?? '', 'warning');
  if (diagnostic.line === undefined) return diagnostic;
  let firstLine = 1;
  for (const source of group) {
    const lines = source.text.split('\n').length;
    if (diagnostic.line < firstLine + lines)
      return { ...diagnostic, file: source.file, line: diagnostic.line - firstLine + 1 };
    firstLine += lines;
  }
  return diagnostic;
}
