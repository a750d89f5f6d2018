import type { AffectedApp, Indicator } from '../core/indicator.js';
import type { PackRef } from '../core/report.js';

/** An indicator together with the pack that carries it. */
export type PackedIndicator = Indicator & { packId: string };
/** An affected-application entry together with the pack that carries it. */
export type PackedApp = AffectedApp & { packId: string };

/** One YARA rule file to compile. */
export interface YaraSource {
  packId: string;
  /** Where the rules came from, for messages: `packId/rules/x.yar` or the user's path. */
  file: string;
  /** YARA namespace, unique per file so rule names may repeat across files. */
  namespace: string;
  text: string;
  /** The folder `include` statements resolve against (the user's own rule files); absent, includes are refused. */
  includeDir?: string;
}

/** Everything a run matches with, merged from signed packs and local inputs. Plain data: crosses to workers. */
export interface IntelSet {
  packs: PackRef[];
  indicators: PackedIndicator[];
  apps: PackedApp[];
  yara: YaraSource[];
}

/** An empty set to merge into. */
export function emptyIntel(): IntelSet {
  return { packs: [], indicators: [], apps: [], yara: [] };
}

/** Merges `from` into `into` and returns `into`; any size (no spread of large arrays onto the stack). */
export function mergeIntel(into: IntelSet, from: IntelSet): IntelSet {
  appendAll(into.packs, from.packs);
  appendAll(into.indicators, from.indicators);
  appendAll(into.apps, from.apps);
  appendAll(into.yara, from.yara);
  return into;
}

/** `into.push(...from)` for arrays of any length. */
export function appendAll<T>(into: T[], from: readonly T[]): void {
  for (const item of from) into.push(item);
}

/** Indicator counts by kind, plus `yara-files` and `apps`, for a PackRef. */
export function countIntel(intel: Omit<IntelSet, 'packs'>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const i of intel.indicators) counts[i.kind] = (counts[i.kind] ?? 0) + 1;
  if (intel.yara.length) counts['yara-files'] = intel.yara.length;
  if (intel.apps.length) counts.apps = intel.apps.length;
  return counts;
}
