import type { Finding } from '../core/finding.js';
import type { Report } from '../core/report.js';
import { SEVERITIES } from '../core/severity.js';

export interface TextStyle {
  color: boolean;
  /** List every installed application, not only those a pack knows. */
  listApps?: boolean;
}

const COLORS: Record<string, string> = {
  critical: '\x1b[1;31m',
  high: '\x1b[31m',
  medium: '\x1b[33m',
  low: '\x1b[36m',
  info: '\x1b[2m',
};

/** The human report: findings grouped by severity with title, source and path, then coverage and a verdict. */
export function renderText(report: Report, style: TextStyle): string {
  const paint = (severity: string, text: string) =>
    style.color ? `${COLORS[severity] ?? ''}${text}\x1b[0m` : text;
  const lines: string[] = [];
  const s = report.stats;
  lines.push(
    `chainsweep ${report.tool.version} ${report.command} of ${report.scope.paths.join(', ')}${report.scope.imageRoot ? ` (image root ${report.scope.imageRoot})` : ''}`,
  );
  if (report.command === 'scan') {
    lines.push(
      `  ${s.files} files, ${formatBytes(s.bytes)} hashed; YARA on ${s.yaraFiles} files (${report.scope.yaraFiles}), ${formatBytes(s.yaraBytes)}; ${(s.durationMs / 1000).toFixed(1)} s`,
    );
  }
  lines.push(`  packs: ${report.packs.map(describePack).join('; ') || 'none'}`);
  lines.push('');

  for (const severity of SEVERITIES) {
    const group = report.findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    lines.push(paint(severity, `${severity.toUpperCase()} (${group.length})`));
    for (const finding of group) lines.push(...describeFinding(finding));
    lines.push('');
  }
  if (report.findings.length === 0) lines.push('No findings.', '');
  lines.push(...describeInventory(report, style.listApps ?? false));

  for (const c of report.coverage.filter((c) => c.outcome === 'partial')) {
    lines.push(
      `coverage ${c.name}: ${c.outcome}, ${c.problemCount} problem${c.problemCount === 1 ? '' : 's'}`,
    );
    for (const p of c.problems.slice(0, 10)) lines.push(`  ${p.path}: ${p.code}: ${p.message}`);
    if (c.problemCount > 10) lines.push(`  ... ${c.problemCount - 10} more (see --format json)`);
  }
  const skipped = Object.entries(s.skipped).filter(([, n]) => n > 0);
  if (skipped.length) lines.push(`skipped: ${skipped.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  lines.push(`result: ${verdict(report)}`);
  return `${lines.join('\n')}\n`;
}

function describeInventory(report: Report, listApps: boolean): string[] {
  const { os, apps, verdicts } = report.inventory;
  if (os === 'unknown' && apps.length === 0) return [];
  const lines = [
    `Installed applications (${os}): ${apps.length} found, ${verdicts.length} known to the packs`,
  ];
  const order = ['affected', 'unknown', 'fixed', 'not-affected'];
  for (const v of [...verdicts].sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict))) {
    const app = apps[v.app];
    if (!app) continue;
    const who = app.user ? `, user ${app.user}` : '';
    lines.push(
      `  ${v.verdict.toUpperCase().padEnd(12)} ${app.name} ${app.version || '(no version)'}  [${app.source}${who}]`,
    );
    lines.push(`    ${app.installLocation ?? app.location}`);
    lines.push(
      `    ${v.product}: affected ${v.affected.join(', ')}${v.fixed.length ? `; fixed ${v.fixed.join(', ')}` : ''}${v.advisory ? ` · ${v.advisory}` : ''}`,
    );
  }
  if (listApps) {
    for (const app of apps)
      lines.push(
        `  ${app.name} ${app.version}  [${app.source}${app.user ? `, user ${app.user}` : ''}]  ${app.location}`,
      );
  }
  lines.push('');
  return lines;
}

function describePack(pack: Report['packs'][number]): string {
  if (!pack.signed) return `${pack.id} (${pack.title}: ${pack.files?.length ?? 0} files)`;
  return `${pack.id} #${pack.sequence} (signed ${pack.keyId?.slice(0, 12)}…${pack.stale ? ', EXPIRED' : ''})`;
}

function describeFinding(f: Finding): string[] {
  const where = f.subject.imagePath ? `${f.subject.imagePath}  [${f.subject.path}]` : (f.subject.path ?? '');
  const source = [
    `${f.kind} ${f.indicatorId}`,
    `pack ${f.packId}`,
    `confidence ${f.confidence}`,
    ...f.references.slice(0, 2),
  ];
  return [`  ${f.title}`, `    ${where}`, `    ${source.join(' · ')}`];
}

function verdict(report: Report): string {
  const counts = SEVERITIES.map(
    (sev) => [sev, report.findings.filter((f) => f.severity === sev).length] as const,
  ).filter(([, n]) => n > 0);
  const found = counts.length
    ? `${report.findings.length} findings (${counts.map(([sev, n]) => `${n} ${sev}`).join(', ')})`
    : 'no findings';
  return `${found}; coverage ${report.outcome}`;
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
