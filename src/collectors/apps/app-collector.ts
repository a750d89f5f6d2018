import type { InstalledApp, OsFamily } from '../../core/app.js';
import type { FileProblem } from '../../core/report.js';

/** What an application collector is given: the root to read under, and whether it is the running system. */
export interface AppContext {
  root: string;
  /** True when `root` is this machine's own running system (OS tools may be asked). */
  live: boolean;
}

/** Facts one collector found, what it could not read, and why it did not run when it did not. */
export interface AppCollection {
  apps: InstalledApp[];
  problems: FileProblem[];
  skipped?: string;
}

/** Turns one kind of install record (a package database, bundles, registry keys, program folders) into apps. */
export interface AppCollector {
  /** `apps/<name>`, as it appears in coverage. */
  readonly name: string;
  readonly os: readonly OsFamily[];
  collect(context: AppContext): Promise<AppCollection> | AppCollection;
}

/** A collector's problem with one file, in one line. */
export function problem(path: string, code: string, error: unknown): FileProblem {
  return { path, code, message: error instanceof Error ? error.message : String(error) };
}
