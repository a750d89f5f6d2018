/** A package a Linux package database records as installed. */
export interface InstalledPackage {
  name: string;
  version: string;
  arch?: string;
  source?: string;
  maintainer?: string;
}

/**
 * Parses dpkg's `status` file (or one `status.d/*` file): RFC 822-style stanzas; only packages whose Status is
 * "install ok installed" (or half-configured states that still have files) count. Continuation lines are folded.
 */
export function parseDpkgStatus(text: string): InstalledPackage[] {
  const packages: InstalledPackage[] = [];
  for (const stanza of text.split(/\r?\n\s*\r?\n/)) {
    const fields = stanzaFields(stanza, /^([A-Za-z0-9-]+):\s?(.*)$/);
    const name = fields.get('package');
    const version = fields.get('version');
    if (!name || !version) continue;
    const status = fields.get('status') ?? 'install ok installed';
    if (
      !/\b(installed|half-configured|unpacked|half-installed|triggers-awaited|triggers-pending)$/.test(status)
    )
      continue;
    if (/\bnot-installed$|\bconfig-files$/.test(status)) continue;
    packages.push({
      name,
      version,
      ...(fields.get('architecture') ? { arch: fields.get('architecture') as string } : {}),
      ...(fields.get('source') ? { source: (fields.get('source') as string).split(' ')[0] as string } : {}),
      ...(fields.get('maintainer') ? { maintainer: fields.get('maintainer') as string } : {}),
    });
  }
  return packages;
}

/** Parses a pacman `local/<name>-<version>/desc` file (%NAME%, %VERSION%, %ARCH%, %PACKAGER%). */
export function parsePacmanDesc(text: string): InstalledPackage | undefined {
  const sections = new Map<string, string>();
  let current: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^%([A-Z0-9]+)%$/.exec(line);
    if (header) current = header[1];
    else if (current && line !== '' && !sections.has(current)) sections.set(current, line);
  }
  const name = sections.get('NAME');
  const version = sections.get('VERSION');
  if (!name || !version) return undefined;
  return {
    name,
    version,
    ...(sections.get('ARCH') ? { arch: sections.get('ARCH') as string } : {}),
    ...(sections.get('PACKAGER') ? { maintainer: sections.get('PACKAGER') as string } : {}),
  };
}

/** Parses Alpine's `lib/apk/db/installed`: stanzas of `P:` (name), `V:` (version), `A:` (arch), `o:` (origin). */
export function parseApkInstalled(text: string): InstalledPackage[] {
  const packages: InstalledPackage[] = [];
  for (const stanza of text.split(/\r?\n\s*\r?\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split(/\r?\n/)) {
      const m = /^([A-Za-z]):(.*)$/.exec(line);
      if (m?.[1] && !fields.has(m[1])) fields.set(m[1], m[2] ?? '');
    }
    const name = fields.get('P');
    const version = fields.get('V');
    if (!name || !version) continue;
    packages.push({
      name,
      version,
      ...(fields.get('A') ? { arch: fields.get('A') as string } : {}),
      ...(fields.get('o') ? { source: fields.get('o') as string } : {}),
    });
  }
  return packages;
}

/** Parses `rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{VENDOR}\n'` output. */
export function parseRpmQuery(text: string): InstalledPackage[] {
  const packages: InstalledPackage[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [name, evr, arch, vendor] = line.split('\t');
    if (!name || !evr) continue;
    const version = evr.replace(/^0:/, '');
    packages.push({
      name,
      version,
      ...(arch && arch !== '(none)' ? { arch } : {}),
      ...(vendor && vendor !== '(none)' ? { maintainer: vendor } : {}),
    });
  }
  return packages;
}

function stanzaFields(stanza: string, pattern: RegExp): Map<string, string> {
  const fields = new Map<string, string>();
  let last: string | undefined;
  for (const line of stanza.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) {
      fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      continue;
    }
    const m = pattern.exec(line);
    if (m?.[1]) {
      last = m[1].toLowerCase();
      if (!fields.has(last)) fields.set(last, (m[2] ?? '').trim());
    }
  }
  return fields;
}
