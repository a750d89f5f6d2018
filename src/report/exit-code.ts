import type { Report } from '../core/report.js';
import { atLeast, type Severity } from '../core/severity.js';

/** Exit codes shared by every command; `output` (74, sysexits' EX_IOERR): the results could not be written. */
export const EXIT = { clean: 0, findings: 1, usage: 2, partial: 3, internal: 70, output: 74 } as const;

/** 1 when a finding is at or above `failOn`, else 3 when coverage was partial, else 0. */
export function exitCodeFor(report: Pick<Report, 'findings' | 'outcome'>, failOn: Severity): number {
  if (report.findings.some((f) => atLeast(f.severity, failOn))) return EXIT.findings;
  return report.outcome === 'partial' ? EXIT.partial : EXIT.clean;
}
