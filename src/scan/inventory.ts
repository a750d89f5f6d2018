import { type Stats, statSync } from 'node:fs';
import { APP_COLLECTORS } from '../collectors/apps/registry.js';
import type { AppVerdict, InstalledApp, OsFamily } from '../core/app.js';
import { UserError } from '../core/errors.js';
import type { Finding } from '../core/finding.js';
import type { PackedApp } from '../core/intel.js';
import type { Coverage } from '../core/report.js';
import { judgeApps } from '../matchers/app-verdicts.js';
import { CoverageTracker } from './coverage.js';
import { detectOs, liveOs } from './detect-os.js';

export interface InventoryResult {
  os: OsFamily;
  apps: InstalledApp[];
  verdicts: AppVerdict[];
  findings: Finding[];
  coverage: Coverage[];
}

/**
 * Lists installed applications under `root` with every collector that fits its operating system (read from the
 * image itself with `live: false`, from this machine otherwise), then judges them against the packs' entries.
 */
export async function takeInventory(
  root: string,
  live: boolean,
  entries: readonly PackedApp[],
): Promise<InventoryResult> {
  const os = live ? liveOs() : detectOs(root);
  const apps: InstalledApp[] = [];
  const coverage: Coverage[] = [];
  for (const collector of APP_COLLECTORS) {
    if (!collector.os.includes(os)) continue;
    const tracker = new CoverageTracker(collector.name);
    try {
      const result = await collector.collect({ root, live });
      apps.push(...result.apps);
      for (const p of result.problems) tracker.add(p);
      coverage.push(
        result.skipped && result.apps.length === 0 && result.problems.length === 0
          ? { ...tracker.toCoverage(), outcome: 'skipped', reason: result.skipped }
          : tracker.toCoverage(),
      );
    } catch (error) {
      tracker.add({
        path: root,
        code: 'collector-failed',
        message: error instanceof Error ? error.message : String(error),
      });
      coverage.push(tracker.toCoverage());
    }
  }
  const { verdicts, findings } = judgeApps(apps, entries, os);
  return { os, apps, verdicts, findings, coverage };
}

/** Refuses, in one line, an image root (`--root`) that is missing or not a folder; a symlink to a folder is followed. */
export function checkImageRoot(root: string): void {
  let stat: Stats;
  try {
    stat = statSync(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      'PATH_NOT_FOUND',
      `--root ${root}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such folder' : `cannot be read (${code})`}`,
    );
  }
  if (!stat.isDirectory()) throw new UserError('USAGE', `--root ${root}: not a folder`);
}
