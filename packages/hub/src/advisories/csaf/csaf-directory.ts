import { createHash } from 'node:crypto';
import { currentContent, type PublishedAdvisory, TLP_LABELS, type TlpLabel } from '../model.js';
import { absoluteUrl, advisoryPaths, CSAF_ROOT, csafYear } from '../urls.js';
import { type CsafConfig, canonicalJson } from './csaf-document.js';

/** Paths of the provider's files besides those `advisoryPaths` names (relative to the hub's public URL). */
export const csafPaths = {
  securityTxt: () => '/.well-known/security.txt',
  /** The public key, named by its fingerprint: `/.well-known/csaf/openpgp/<FINGERPRINT>.asc`. */
  openpgpKey: (fingerprint: string) => `${CSAF_ROOT}/openpgp/${fingerprint}.asc`,
  index: (tlp: TlpLabel) => `${advisoryPaths.csafDirectory(tlp)}index.txt`,
  changes: (tlp: TlpLabel) => `${advisoryPaths.csafDirectory(tlp)}changes.csv`,
  yearFolder: (tlp: TlpLabel, year: string) => `${advisoryPaths.csafDirectory(tlp)}${year}/`,
};

/** One document of a TLP directory: where it is (relative to the directory) and when it last changed. */
export interface DirectoryEntry {
  advisory: PublishedAdvisory;
  year: string;
  /** `<slug>.json`. */
  file: string;
  /** `<year>/<slug>.json`, as index.txt and changes.csv name it. */
  path: string;
  currentReleaseDate: string;
}

/** The documents of the `tlp` directory among `advisories` (by their current revision's label), newest first. */
export function directoryEntries(advisories: readonly PublishedAdvisory[], tlp: TlpLabel): DirectoryEntry[] {
  return advisories
    .filter((advisory) => currentContent(advisory).tlp === tlp)
    .map((advisory) => {
      const year = csafYear(advisory.initialReleaseDate);
      const file = `${advisory.slug}.json`;
      return {
        advisory,
        year,
        file,
        path: `${year}/${file}`,
        currentReleaseDate: advisory.currentReleaseDate,
      };
    })
    .sort(
      (a, b) =>
        Date.parse(b.currentReleaseDate) - Date.parse(a.currentReleaseDate) || a.path.localeCompare(b.path),
    );
}

/** The TLP labels that have a directory: WHITE always, the others while they hold a document. */
export function servedLabels(advisories: readonly PublishedAdvisory[]): TlpLabel[] {
  const used = new Set(advisories.map((a) => currentContent(a).tlp));
  return TLP_LABELS.filter((tlp) => tlp === 'WHITE' || used.has(tlp));
}

/** When the newest of `entries` changed (the epoch when there is none, so the value stays stable). */
export function lastChange(entries: readonly Pick<DirectoryEntry, 'currentReleaseDate'>[]): Date {
  const times = entries.map((e) => Date.parse(e.currentReleaseDate));
  return new Date(times.length ? Math.max(...times) : 0);
}

/** index.txt: every document path, one a line (requirement 12). */
export function indexTxt(entries: readonly DirectoryEntry[]): string {
  return entries.map((e) => `${e.path}\n`).join('');
}

/** changes.csv: `"path","current_release_date"`, no header, newest first (requirement 13). */
export function changesCsv(entries: readonly DirectoryEntry[]): string {
  return entries.map((e) => `"${e.path}","${e.currentReleaseDate}"\n`).join('');
}

/** A hash file: the hex digest, two spaces, the file name (requirement 18). */
export function hashFile(algorithm: 'sha256' | 'sha512', bytes: Uint8Array, file: string): string {
  return `${createHash(algorithm).update(bytes).digest('hex')}  ${file}\n`;
}

/** An HTML directory listing linking every name (a folder's name ends in `/`) relative to the listed path. */
export function listingHtml(path: string, names: readonly string[]): string {
  const items = ['../', ...names].map(
    (name) => `<li><a href="${escapeHtml(name)}">${escapeHtml(name)}</a></li>`,
  );
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>Index of ${escapeHtml(path)}</title></head>`,
    `<body><h1>Index of ${escapeHtml(path)}</h1>`,
    `<ul>\n${items.join('\n')}\n</ul>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The names the listing of a TLP directory holds: index.txt, changes.csv and each year folder. */
export function directoryNames(entries: readonly DirectoryEntry[]): string[] {
  const years = [...new Set(entries.map((e) => e.year))].sort().reverse();
  return ['index.txt', 'changes.csv', ...years.map((y) => `${y}/`)];
}

/** The names the listing of a year folder holds: each document with its hashes and signature. */
export function yearNames(entries: readonly DirectoryEntry[], year: string): string[] {
  return entries
    .filter((e) => e.year === year)
    .map((e) => e.file)
    .sort()
    .flatMap((file) => [file, `${file}.asc`, `${file}.sha256`, `${file}.sha512`]);
}

/** provider-metadata.json of a trusted provider (requirement 7), keys sorted, with its key and directories. */
export function providerMetadata(
  config: CsafConfig,
  key: { fingerprint: string },
  labels: readonly TlpLabel[],
  lastUpdated: Date,
): string {
  const url = (path: string) => absoluteUrl(config.publicUrl, path);
  return canonicalJson({
    canonical_url: url(advisoryPaths.providerMetadata()),
    distributions: labels.map((tlp) => ({ directory_url: url(advisoryPaths.csafDirectory(tlp)) })),
    last_updated: lastUpdated.toISOString(),
    list_on_CSAF_aggregators: true,
    metadata_version: '2.0',
    mirror_on_CSAF_aggregators: true,
    public_openpgp_keys: [{ fingerprint: key.fingerprint, url: url(csafPaths.openpgpKey(key.fingerprint)) }],
    publisher: {
      category: 'vendor',
      name: config.publisher.name.trim() || config.publisher.namespace,
      namespace: config.publisher.namespace,
    },
    role: 'csaf_trusted_provider',
  });
}

/** How long a security.txt stays valid: RFC 9116 recommends less than a year. */
const SECURITY_TXT_DAYS = 180;

/** security.txt (RFC 9116) pointing to the provider metadata (requirement 8); `Expires` moves once a day. */
export function securityTxt(config: CsafConfig, now: Date): string {
  const day = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const expires = new Date(day + SECURITY_TXT_DAYS * 86_400_000).toISOString().replace('.000Z', 'Z');
  return [
    `CSAF: ${absoluteUrl(config.publicUrl, advisoryPaths.providerMetadata())}`,
    `Contact: ${config.publisher.namespace}`,
    `Expires: ${expires}`,
    'Preferred-Languages: en',
    `Canonical: ${absoluteUrl(config.publicUrl, csafPaths.securityTxt())}`,
    '',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
