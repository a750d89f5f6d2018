import type { AppVerdict, InstalledApp } from 'chainsweep/core/app.js';
import { isPackageSource, packageUpgradeCommand } from 'chainsweep/core/package-upgrade.js';

/** One affected install and what removes it. */
export interface PlannedInstall {
  packId: string;
  productId: string;
  product: string;
  app: string;
  version: string;
  source: string;
  location: string;
  /** `remove`: `chainsweep remediate --apply` on the host quarantines it; `upgrade`: its package manager does. */
  action: 'remove' | 'upgrade';
  /** The command to run on the host, when there is one safe to copy. */
  command?: string;
  fixed: string[];
  advisory?: string;
}

/** A host's remediation plan: the commands to copy, each affected install, and what no command removes. */
export interface RemediationPlan {
  /** The commands to run on the host, in order (the plan first, then the removal). */
  commands: string[];
  installs: PlannedInstall[];
  /** File indicator hits: malware on disk outside an install, for the responder to triage. */
  files: { path: string; indicatorId: string; packId: string; title: string }[];
  /** What to do beyond the commands (beacons, file hits), in words. */
  notes: string[];
}

/** Current findings the plan reads: file hits and beacons. */
export interface PlanFinding {
  kind: string;
  indicatorId: string;
  packId: string;
  title: string;
  subject: { path?: string };
}

const LOG_KINDS = new Set(['domain', 'url', 'ip']);

/**
 * The remediation plan of one host from what it reported: its inventory (apps in report order), the verdicts
 * on them and its current findings. It is what `chainsweep remediate` on the host would act on; the host itself
 * checks each path again before touching it (the hub only says what to run).
 */
export function remediationPlan(
  apps: readonly InstalledApp[],
  verdicts: readonly AppVerdict[],
  findings: readonly PlanFinding[],
): RemediationPlan {
  const installs: PlannedInstall[] = [];
  for (const verdict of verdicts) {
    const app = apps[verdict.app];
    if (verdict.verdict !== 'affected' || !app) continue;
    const upgrade = isPackageSource(app.source);
    const command = upgrade ? packageUpgradeCommand(app.source, app.name) : REMOVE;
    installs.push({
      packId: verdict.packId,
      productId: verdict.productId,
      product: verdict.product,
      app: app.name,
      version: app.version,
      source: app.source,
      location: app.location,
      action: upgrade ? 'upgrade' : 'remove',
      ...(command ? { command } : {}),
      fixed: verdict.fixed,
      ...(verdict.advisory ? { advisory: verdict.advisory } : {}),
    });
  }
  const commands = installs.some((i) => i.action === 'remove') ? [PLAN, REMOVE] : [];
  for (const install of installs)
    if (install.action === 'upgrade' && install.command && !commands.includes(install.command))
      commands.push(install.command);
  const files = findings
    .filter((f) => f.kind !== 'app' && !LOG_KINDS.has(f.kind) && f.subject.path !== undefined)
    .map((f) => ({
      path: f.subject.path as string,
      indicatorId: f.indicatorId,
      packId: f.packId,
      title: f.title,
    }));
  const notes: string[] = [];
  if (installs.some((i) => i.action === 'upgrade' && !i.command))
    notes.push('upgrade the packages listed without a command with the host’s package manager');
  if (files.length)
    notes.push(
      'files that match an indicator are not part of an install chainsweep removes: isolate the host and triage them',
    );
  if (findings.some((f) => LOG_KINDS.has(f.kind)))
    notes.push(
      'the host contacted a command-and-control address: treat it as compromised (isolate, investigate, rotate its credentials)',
    );
  return { commands, installs, files, notes };
}

const PLAN = 'chainsweep remediate';
const REMOVE = 'chainsweep remediate --apply';
