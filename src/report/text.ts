import type { Finding } from '../core/finding.js';
import { displayPath } from '../core/paths.js';
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

/**
 * The human report: findings grouped by severity with title, source and path, then coverage and a verdict. Every
 * value from the host or a pack goes through displayPath, so none can break a line or forge one.
 */
export function renderText(report: Report, style: TextStyle): string {
  const paint = (severity: string, text: string) =>
    style.color ? `${COLORS[severity] ?? ''}${text}\x1b[0m` : text;
  const lines: string[] = [];
  const s = report.stats;
  lines.push(
    `chainsweep ${report.tool.version} ${report.command} of ${report.scope.paths.map(show).join(', ')}${report.scope.imageRoot ? ` (image root ${show(report.scope.imageRoot)})` : ''}`,
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
    for (const p of c.problems.slice(0, 10))
      lines.push(`  ${showPath(p.path, p.pathBytes)}: ${show(p.code)}: ${show(p.message)}`);
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
    const who = app.user ? `, user ${show(app.user)}` : '';
    lines.push(
      `  ${v.verdict.toUpperCase().padEnd(12)} ${show(app.name)} ${show(app.version) || '(no version)'}  [${app.source}${who}]`,
    );
    lines.push(`    ${show(app.installLocation ?? app.location)}`);
    lines.push(
      `    ${show(v.product)}: affected ${v.affected.map(show).join(', ')}${v.fixed.length ? `; fixed ${v.fixed.map(show).join(', ')}` : ''}${v.advisory ? ` · ${show(v.advisory)}` : ''}`,
    );
  }
  if (listApps) {
    for (const app of apps)
      lines.push(
        `  ${show(app.name)} ${show(app.version)}  [${app.source}${app.user ? `, user ${show(app.user)}` : ''}]  ${show(app.location)}`,
      );
  }
  lines.push('');
  return lines;
}

function describePack(pack: Report['packs'][number]): string {
  if (!pack.signed) return `${show(pack.id)} (${show(pack.title)}: ${pack.files?.length ?? 0} files)`;
  return `${show(pack.id)} #${pack.sequence} (signed ${show(pack.keyId?.slice(0, 12) ?? '')}…${pack.stale ? ', EXPIRED' : ''})`;
}

function describeFinding(f: Finding): string[] {
  const { path, pathBytes, imagePath, imagePathBytes } = f.subject;
  const where =
    imagePath !== undefined
      ? `${showPath(imagePath, imagePathBytes)}  [${showPath(path ?? '', pathBytes)}]`
      : showPath(path ?? '', pathBytes);
  const source = [
    `${f.kind} ${show(f.indicatorId)}`,
    `pack ${show(f.packId)}`,
    `confidence ${f.confidence}`,
    ...f.references.slice(0, 2).map(show),
  ];
  return [`  ${show(f.title)}`, `    ${where}`, `    ${source.join(' · ')}`];
}

const show = displayPath;

/** A report path as displayPath shows it: from its exact bytes when the report carries them. */
function showPath(path: string, bytes: string | undefined): string {
  return displayPath(bytes === undefined ? path : Buffer.from(bytes, 'base64'));
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
