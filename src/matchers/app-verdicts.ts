import type { AppVerdict, InstalledApp, OsFamily, Verdict } from '../core/app.js';
import { type Finding, fingerprint } from '../core/finding.js';
import type { PackedApp } from '../core/intel.js';
import { globToRegExp } from './glob.js';
import { satisfies, type VersionScheme } from './versions.js';

/** The version ordering an inventory source uses. */
export function schemeFor(app: InstalledApp): VersionScheme {
  if (app.source === 'dpkg') return 'dpkg';
  if (app.source === 'rpm' || app.source === 'pacman' || app.source === 'apk') return 'rpm';
  return 'generic';
}

/** True when the pack entry describes this installed app (platform, inventory source, name, bundle id, path, publisher). */
export function describes(entry: PackedApp, app: InstalledApp, os: OsFamily): boolean {
  if (os !== 'unknown' && !entry.platforms.some((p) => p === os)) return false;
  const m = entry.match;
  if (m.sources && !m.sources.includes(app.source)) return false;
  const lower = (s: string) => s.toLowerCase();
  const byName = m.names?.some((n) => lower(n) === lower(app.name)) ?? false;
  const byBundle =
    app.bundleId !== undefined && (m.bundleIds?.some((b) => lower(b) === lower(app.bundleId ?? '')) ?? false);
  const where = [app.installLocation, app.location]
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replaceAll('\\', '/'));
  const byPath =
    m.paths?.some((glob) => {
      const regex = globToRegExp(glob.startsWith('**') || glob.startsWith('/') ? glob : `**/${glob}`);
      return where.some((p) => regex.test(p) || regex.test(p.replace(/^[A-Za-z]:/, '')));
    }) ?? false;
  if (!(byName || byBundle || byPath)) return false;
  if (m.publishers && app.publisher)
    return m.publishers.some((p) => lower(app.publisher ?? '').includes(lower(p)));
  return true;
}

/** The verdict for one version: affected, fixed (a bare fixed version means it or later), not-affected or unknown. */
export function verdictFor(entry: PackedApp, app: InstalledApp): Verdict {
  const version = app.version.trim();
  if (!version) return 'unknown';
  const scheme = schemeFor(app);
  try {
    if (entry.affected.some((range) => satisfies(version, range, scheme))) return 'affected';
    const isRange = (r: string) => /^[<>=]/.test(r) || /\s/.test(r.trim());
    if (entry.fixed?.some((f) => satisfies(version, isRange(f) ? f : `>=${f}`, scheme))) return 'fixed';
    return 'not-affected';
  } catch {
    return 'unknown';
  }
}

/** Verdicts for every app a pack entry describes, and a finding for each affected one. */
export function judgeApps(
  apps: readonly InstalledApp[],
  entries: readonly PackedApp[],
  os: OsFamily,
): { verdicts: AppVerdict[]; findings: Finding[] } {
  const verdicts: AppVerdict[] = [];
  const findings: Finding[] = [];
  apps.forEach((app, index) => {
    for (const entry of entries) {
      if (!describes(entry, app, os)) continue;
      const verdict = verdictFor(entry, app);
      verdicts.push({
        app: index,
        packId: entry.packId,
        productId: entry.id,
        product: entry.product,
        verdict,
        ...(entry.advisory ? { advisory: entry.advisory } : {}),
        affected: entry.affected,
        fixed: entry.fixed ?? [],
      });
      if (verdict !== 'affected') continue;
      findings.push({
        fingerprint: fingerprint(entry.packId, entry.id, `${app.source}:${app.location}`),
        kind: 'app',
        indicatorId: entry.id,
        packId: entry.packId,
        severity: entry.severity,
        confidence: 'high',
        title: `${entry.title} (${app.name} ${app.version}${app.user ? `, user ${app.user}` : ''})`,
        subject: { path: app.installLocation ?? app.location, app },
        evidence: {
          version: app.version,
          affected: entry.affected,
          fixed: entry.fixed ?? [],
          source: app.source,
        },
        references: [...(entry.advisory ? [entry.advisory] : []), ...entry.references],
      });
    }
  });
  return { verdicts, findings };
}
