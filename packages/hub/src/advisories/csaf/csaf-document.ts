import { createRequire } from 'node:module';
import {
  type AdvisoryContent,
  type AdvisoryProduct,
  currentContent,
  type PublishedAdvisory,
  type TlpLabel,
} from '../model.js';
import { absoluteUrl, advisoryPaths } from '../urls.js';
import { markdownText } from './markdown-text.js';

const HUB_VERSION = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
const CVE = /^CVE-[0-9]{4}-[0-9]{4,}$/;
const WEB_URL = /^https?:\/\//i;
/** What mandatory test 6.1.31 takes for a range in a product version: a comparison or a range word. */
const RANGE_WORDS = new Set(['after', 'all', 'before', 'earlier', 'later', 'prior', 'versions']);
const PLATFORM_NAMES: Record<string, string> = {
  windows: 'Windows',
  macos: 'macOS',
  linux: 'Linux',
  android: 'Android',
  ios: 'iOS',
};

/** Who publishes, and where the hub is: read from the hub's config at request time. */
export interface CsafConfig {
  publicUrl: string;
  publisher: { name: string; namespace: string };
}

type Note = { category: string; text: string; title?: string };
type Reference = { category: 'self' | 'external'; summary: string; url: string };
type ProductStatus = { known_affected?: string[]; fixed?: string[] };
type Remediation = { category: string; details: string; product_ids: string[] };
type Threat = { category: string; details: string; product_ids?: string[] };
/** A branch of the product tree: vendor, product name or product version (the last holds the product). */
export interface CsafBranch {
  category: 'vendor' | 'product_name' | 'product_version' | 'product_version_range';
  name: string;
  branches?: CsafBranch[];
  product?: { name: string; product_id: string };
}
export interface CsafVulnerability {
  cve?: string;
  ids?: { system_name: string; text: string }[];
  title: string;
  notes: Note[];
  product_status?: ProductStatus;
  remediations?: Remediation[];
  threats?: Threat[];
}

/** A CSAF 2.0 document as the hub generates it (`csaf_security_advisory`; see `csafDocument`). */
export interface CsafDocument {
  document: {
    category: 'csaf_security_advisory' | 'csaf_security_incident_response';
    csaf_version: '2.0';
    title: string;
    lang: 'en';
    publisher: { category: 'vendor'; name: string; namespace: string };
    distribution: { tlp: { label: TlpLabel; url: string } };
    aggregate_severity: { text: string };
    notes: Note[];
    references: Reference[];
    tracking: {
      id: string;
      status: 'interim' | 'final';
      version: string;
      initial_release_date: string;
      current_release_date: string;
      revision_history: { number: string; date: string; summary: string }[];
      generator: { engine: { name: 'chainsweep'; version: string } };
    };
  };
  product_tree?: { branches: CsafBranch[] };
  vulnerabilities: CsafVulnerability[];
}

/** One version of one app: its product id, and whether it is affected or fixed. */
interface ProductVersion {
  id: string;
  name: string;
  version: string;
  status: 'affected' | 'fixed';
}

/** The stable product id of one app version: the app's id and the version (`3cx-desktopapp-windows@18.12.407`). */
export function productId(appId: string, version: string): string {
  return `${appId}@${version}`;
}

/**
 * The CSAF 2.0 document of a published advisory: document metadata and every revision in
 * `tracking.revision_history`; the product tree (vendor, product name per platform, version) of the current
 * revision's apps; one vulnerability per CVE (or one named by the tracking id) with `known_affected` / `fixed`,
 * each remediation step for the affected versions, and the severity as an impact. An advisory with no
 * products becomes a `csaf_security_incident_response` (a security advisory must name products).
 */
export function csafDocument(advisory: PublishedAdvisory, config: CsafConfig): CsafDocument {
  const content = currentContent(advisory);
  const last = advisory.revisions.at(-1);
  const apps = appVersions(content.products);
  const affected = apps.flatMap((app) => app.versions.filter((v) => v.status === 'affected'));
  const fixed = apps.flatMap((app) => app.versions.filter((v) => v.status === 'fixed'));
  const notes: Note[] = [];
  if (content.summary.trim()) notes.push({ category: 'summary', title: 'Summary', text: content.summary });
  const description = markdownText(content.body);
  if (description) notes.push({ category: 'description', title: 'Description', text: description });
  if (apps.length === 0 && content.remediation.length > 0)
    notes.push({
      category: 'general',
      title: 'Remediation',
      text: content.remediation.map((step, i) => `${i + 1}. ${markdownText(step)}`).join('\n'),
    });
  if (notes.length === 0) notes.push({ category: 'summary', title: 'Summary', text: titleOf(advisory) });

  const vulnerability = (identity: Pick<CsafVulnerability, 'cve' | 'ids'>): CsafVulnerability => ({
    ...identity,
    title: titleOf(advisory),
    notes: [{ category: 'summary', title: 'Summary', text: content.summary.trim() || titleOf(advisory) }],
    ...(apps.length > 0
      ? {
          product_status: {
            ...(affected.length ? { known_affected: affected.map((v) => v.id) } : {}),
            ...(fixed.length ? { fixed: fixed.map((v) => v.id) } : {}),
          },
        }
      : {}),
    ...(affected.length ? { remediations: remediations(content, apps) } : {}),
    threats: [
      {
        category: 'impact',
        details: `${capitalised(content.severity)} severity, as rated by ${publisherName(config)}.`,
        ...(affected.length ? { product_ids: affected.map((v) => v.id) } : {}),
      },
    ],
  });
  const cves = [...new Set(content.cves.map((cve) => cve.trim().toUpperCase()))].filter((cve) =>
    CVE.test(cve),
  );
  const vulnerabilities = cves.length
    ? cves.map((cve) => vulnerability({ cve }))
    : [
        vulnerability({
          ids: [{ system_name: `${publisherName(config)} advisory`, text: advisory.trackingId }],
        }),
      ];

  return {
    document: {
      category: apps.length ? 'csaf_security_advisory' : 'csaf_security_incident_response',
      csaf_version: '2.0',
      title: titleOf(advisory),
      lang: 'en',
      publisher: { category: 'vendor', name: publisherName(config), namespace: config.publisher.namespace },
      distribution: { tlp: { label: content.tlp, url: 'https://www.first.org/tlp/' } },
      aggregate_severity: { text: content.severity },
      notes,
      references: references(advisory, content, config),
      tracking: {
        id: advisory.trackingId,
        status: content.status,
        version: String(last?.number ?? 1),
        initial_release_date: advisory.initialReleaseDate,
        current_release_date: advisory.currentReleaseDate,
        revision_history: advisory.revisions.map((revision) => ({
          number: String(revision.number),
          date: revision.at,
          summary: revision.summary.trim() || `Revision ${revision.number}.`,
        })),
        generator: { engine: { name: 'chainsweep', version: HUB_VERSION } },
      },
    },
    ...(apps.length ? { product_tree: { branches: productTree(apps) } } : {}),
    vulnerabilities,
  };
}

/**
 * The bytes of a CSAF document as served: keys sorted alphabetically at every level (optional test 6.2.13,
 * in the validator's collation), two-space indentation, a final newline, UTF-8.
 */
export function csafJson(doc: CsafDocument): Uint8Array {
  return Buffer.from(canonicalJson(doc), 'utf8');
}

/** JSON with the keys of every object sorted (as the CSAF validator collates them), indented, newline-terminated. */
export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(sortedKeys(value), null, 2)}\n`;
}

const collator = new Intl.Collator('en');

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).sort(([a], [b]) => collator.compare(a, b));
  return Object.fromEntries(entries.map(([key, v]) => [key, sortedKeys(v)]));
}

/** Each app once (the first entry of an app id wins), with its versions: affected ones, then fixed ones not affected. */
function appVersions(products: readonly AdvisoryProduct[]) {
  const seen = new Set<string>();
  const apps: { product: AdvisoryProduct; name: string; versions: ProductVersion[] }[] = [];
  for (const product of products) {
    if (seen.has(product.appId)) continue;
    seen.add(product.appId);
    const name = productName(product);
    const versions = new Map<string, ProductVersion>();
    const add = (version: string, status: ProductVersion['status']) => {
      const v = version.trim();
      if (v && !versions.has(v))
        versions.set(v, { id: productId(product.appId, v), name: `${name} ${v}`, version: v, status });
    };
    for (const v of product.affected) add(v, 'affected');
    for (const v of product.fixed) add(v, 'fixed');
    if (versions.size) apps.push({ product, name, versions: [...versions.values()] });
  }
  return apps;
}

/** `3CX Desktop App for Windows`: the product and its platforms. */
function productName(product: AdvisoryProduct): string {
  const platforms = product.platforms.map((p) => PLATFORM_NAMES[p.toLowerCase()] ?? p).filter(Boolean);
  const name = product.product.trim() || product.appId;
  return platforms.length ? `${name} for ${platforms.join(' and ')}` : name;
}

/** vendor -> product name -> product version; two apps of one name stay apart by their app id. */
function productTree(apps: ReturnType<typeof appVersions>): CsafBranch[] {
  const vendors = new Map<string, Map<string, CsafBranch>>();
  for (const app of apps) {
    const vendor = app.product.vendor.trim() || 'Unknown vendor';
    const names = vendors.get(vendor) ?? new Map<string, CsafBranch>();
    vendors.set(vendor, names);
    const name = names.has(app.name) ? `${app.name} (${app.product.appId})` : app.name;
    names.set(name, {
      category: 'product_name',
      name,
      branches: app.versions.map((v) => ({
        category: isRange(v.version) ? 'product_version_range' : 'product_version',
        name: v.version,
        product: { name: name === app.name ? v.name : `${name} ${v.version}`, product_id: v.id },
      })),
    });
  }
  return [...vendors].map(([vendor, names]) => ({
    category: 'vendor',
    name: vendor,
    branches: [...names.values()],
  }));
}

/**
 * Each step for the affected versions: `vendor_fix` for apps that have a fixed version, `workaround` for
 * the others. Without steps, apps with a fixed version get "Update to ..." and the others `none_available`.
 */
function remediations(content: AdvisoryContent, apps: ReturnType<typeof appVersions>): Remediation[] {
  const affectedOf = (app: ReturnType<typeof appVersions>[number]) =>
    app.versions.filter((v) => v.status === 'affected').map((v) => v.id);
  const withFix = apps.filter((app) => app.versions.some((v) => v.status === 'fixed')).flatMap(affectedOf);
  const withoutFix = apps
    .filter((app) => !app.versions.some((v) => v.status === 'fixed'))
    .flatMap(affectedOf);
  const steps = content.remediation.map(markdownText).filter(Boolean);
  if (steps.length)
    return steps.flatMap((details) => [
      ...(withFix.length ? [{ category: 'vendor_fix', details, product_ids: withFix }] : []),
      ...(withoutFix.length ? [{ category: 'workaround', details, product_ids: withoutFix }] : []),
    ]);
  return apps.flatMap((app) => {
    const ids = affectedOf(app);
    if (!ids.length) return [];
    const fixes = app.versions.filter((v) => v.status === 'fixed').map((v) => v.version);
    return [
      fixes.length
        ? {
            category: 'vendor_fix',
            details: `Update ${app.name} to ${fixes.join(' or ')}.`,
            product_ids: ids,
          }
        : { category: 'none_available', details: `No fixed version of ${app.name} yet.`, product_ids: ids },
    ];
  });
}

/** self (this document), the advisory page, the advisory's web references, and each linked pack archive. */
function references(advisory: PublishedAdvisory, content: AdvisoryContent, config: CsafConfig): Reference[] {
  const refs: Reference[] = [
    {
      category: 'self',
      summary: 'This CSAF document',
      url: absoluteUrl(config.publicUrl, advisoryPaths.csafDocument(advisory, content.tlp)),
    },
    {
      category: 'external',
      summary: 'The advisory, with its revision history',
      url: absoluteUrl(config.publicUrl, advisoryPaths.page(advisory.slug)),
    },
  ];
  for (const ref of content.references) {
    const url = ref.url.trim();
    const absolute = url.startsWith('/') && !url.startsWith('//') ? absoluteUrl(config.publicUrl, url) : url;
    if (WEB_URL.test(absolute) && URL.canParse(absolute))
      refs.push({ category: 'external', summary: ref.summary.trim() || absolute, url: absolute });
  }
  for (const pack of advisory.packs)
    refs.push({
      category: 'external',
      summary: `Signed pack ${pack.packId} sequence ${pack.sequence}: ${pack.title}`,
      url: absoluteUrl(config.publicUrl, pack.archivePath),
    });
  return refs;
}

/**
 * Whether an apps.json "version" reads as a range (`<2.0`, `1.0 and later`): such a name goes in a
 * `product_version_range` branch (the CSAF 2.0 fallback to a plain range string), never in `product_version`.
 */
function isRange(version: string): boolean {
  return (
    /[<>]/.test(version) ||
    version
      .toLowerCase()
      .split(/\s/)
      .some((word) => RANGE_WORDS.has(word))
  );
}

function titleOf(advisory: PublishedAdvisory): string {
  return currentContent(advisory).title.trim() || advisory.trackingId;
}

function publisherName(config: CsafConfig): string {
  return config.publisher.name.trim() || config.publisher.namespace;
}

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
