import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import * as openpgp from 'openpgp';

/** The outcome of one requirement of CSAF 2.0 section 7.1. */
export interface RequirementResult {
  requirement: number;
  title: string;
  status: 'passed' | 'failed' | 'not applicable';
  /** Why it failed, or why it does not apply; empty when it passed. */
  reasons: string[];
}

/** How to walk a provider. */
export interface ProviderCheckOptions {
  /** Headers that sign in (e.g. `authorization: Bearer ...`), sent only where a directory refuses anonymous callers. */
  credentials?: Record<string, string>;
  /** Extra checks of each parsed document (e.g. a schema validator): the problems found, empty when none. */
  validateDocument?: (doc: unknown) => Promise<string[]>;
  /** At most this many documents are fetched per directory (default 1000). */
  maxDocuments?: number;
}

export const REQUIREMENT_TITLES: Record<number, string> = {
  1: 'Valid CSAF document',
  2: 'Filename',
  3: 'TLS',
  4: 'TLP:WHITE freely accessible',
  5: 'TLP:AMBER and TLP:RED access protected',
  6: 'No redirects',
  7: 'provider-metadata.json',
  8: 'security.txt',
  9: 'Well-known URL for provider-metadata.json',
  10: 'DNS path',
  11: 'One folder per year',
  12: 'index.txt',
  13: 'changes.csv',
  14: 'Directory listings',
  15: 'ROLIE feed',
  16: 'ROLIE service document',
  17: 'ROLIE category document',
  18: 'Integrity',
  19: 'Signatures',
  20: 'Public OpenPGP key',
};

const METADATA_PATH = '/.well-known/csaf/provider-metadata.json';
const FINGERPRINT = /^[0-9a-fA-F]{40,}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TLP = ['WHITE', 'GREEN', 'AMBER', 'RED'];
const ROLES = ['csaf_publisher', 'csaf_provider', 'csaf_trusted_provider'];
const PUBLISHER_CATEGORIES = ['coordinator', 'discoverer', 'other', 'translator', 'user', 'vendor'];

interface Fetched {
  url: string;
  status: number;
  contentType: string | null;
  bytes: Uint8Array;
  /** The body went over MAX_RESPONSE_BYTES and was not read to its end. */
  tooLarge?: true;
}

/** Larger answers are not read (the BSI tools warn about documents over 15 MB). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * Walks the CSAF provider at `origin` over HTTP the way the BSI csaf_checker does: provider-metadata.json at
 * the well-known URL, security.txt, the public keys, then each directory distribution (index.txt,
 * changes.csv, listings, every document with its hashes and signature). One result per requirement 1-20.
 */
export async function checkProvider(
  origin: string,
  options: ProviderCheckOptions = {},
): Promise<RequirementResult[]> {
  const walk = new Walk(new URL(origin).origin, options);
  await walk.run();
  return walk.results();
}

/** The requirements a role must meet (section 7.2): 8-10 and the directory (11-14) or ROLIE (15-17) sets are one-of. */
export function unmetForRole(
  results: readonly RequirementResult[],
  role: 'csaf_publisher' | 'csaf_provider' | 'csaf_trusted_provider',
): string[] {
  const status = (n: number) => results.find((r) => r.requirement === n)?.status;
  const ok = (n: number) => status(n) !== 'failed';
  const passed = (n: number) => status(n) === 'passed';
  const needed = role === 'csaf_publisher' ? [1, 2, 3, 4] : [1, 2, 3, 4, 5, 6, 7];
  if (role === 'csaf_trusted_provider') needed.push(18, 19, 20);
  const unmet = needed.filter((n) => !ok(n)).map((n) => `${n} ${REQUIREMENT_TITLES[n]}`);
  if (role !== 'csaf_publisher') {
    if (![8, 9, 10].some(passed)) unmet.push('one of 8-10 (security.txt, well-known URL, DNS path)');
    const directory = [11, 12, 13, 14].every(passed);
    const rolie = passed(15) && [16, 17].every(ok);
    if (!directory && !rolie) unmet.push('11-14 (directory distribution) or 15-17 (ROLIE)');
  }
  return unmet;
}

class Walk {
  private readonly failures = new Map<number, string[]>();
  private readonly notApplicable = new Map<number, string>();
  private readonly checked = new Set<number>();
  private readonly keys: openpgp.PublicKey[] = [];
  private readonly loopback: boolean;
  private metadataBytes: Uint8Array | undefined;

  constructor(
    private readonly origin: string,
    private readonly options: ProviderCheckOptions,
  ) {
    const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
    this.loopback = host === 'localhost' || /^127\./.test(host) || host === '::1';
  }

  async run(): Promise<void> {
    const metadata = await this.metadata();
    await this.securityTxt();
    this.dnsPath();
    if (!metadata) {
      for (const n of [1, 2, 4, 5, 11, 12, 13, 14, 18, 19, 20])
        this.fail(n, 'no provider metadata to start from');
      return;
    }
    await this.publicKeys(metadata);
    const distributions = Array.isArray(metadata.distributions) ? metadata.distributions : [];
    const directories = distributions
      .map((d) => (isObject(d) && typeof d.directory_url === 'string' ? d.directory_url : undefined))
      .filter((d): d is string => d !== undefined);
    const rolie = distributions.some((d) => isObject(d) && d.rolie !== undefined);
    for (const n of [15, 16, 17])
      if (rolie) this.fail(n, 'ROLIE feeds are listed but this walk checks only the directory distribution');
      else this.skip(n, 'no ROLIE distribution: the directory distribution (11-14) is used');
    if (directories.length === 0)
      for (const n of [11, 12, 13, 14]) this.fail(n, 'no directory_url in distributions');
    const labels = new Map<string, string[]>();
    for (const directory of directories) await this.directory(directory, labels);
    const white = labels.get('WHITE') ?? [];
    for (const label of ['AMBER', 'RED'])
      for (const dir of labels.get(label) ?? [])
        if (white.includes(dir)) this.fail(5, `TLP:${label} documents share the TLP:WHITE directory ${dir}`);
    if (!this.checked.has(4)) this.skip(4, 'no TLP:WHITE document is published');
    if (!this.checked.has(5)) this.skip(5, 'no TLP:AMBER or TLP:RED document is published');
  }

  results(): RequirementResult[] {
    return Object.entries(REQUIREMENT_TITLES).map(([key, title]) => {
      const requirement = Number(key);
      const reasons = this.failures.get(requirement);
      if (reasons?.length) return { requirement, title, status: 'failed', reasons: [...new Set(reasons)] };
      const why = this.notApplicable.get(requirement);
      if (why !== undefined) return { requirement, title, status: 'not applicable', reasons: [why] };
      return { requirement, title, status: 'passed', reasons: [] };
    });
  }

  private fail(requirement: number, reason: string): void {
    this.checked.add(requirement);
    this.failures.set(requirement, [...(this.failures.get(requirement) ?? []), reason]);
  }

  private skip(requirement: number, reason: string): void {
    if (!this.checked.has(requirement)) this.notApplicable.set(requirement, reason);
  }

  /** GET without following redirects (requirement 6) and noting plain HTTP (requirement 3). */
  private async get(url: string, headers: Record<string, string> = {}): Promise<Fetched | undefined> {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:') {
      if (this.loopback && parsed.origin === this.origin)
        this.skip(3, "a loopback test server over plain HTTP: TLS is the deployment's front end");
      else this.fail(3, `${url} is not served over https`);
    } else this.checked.add(3);
    let response: Response;
    try {
      response = await fetch(url, { headers, redirect: 'manual' });
    } catch {
      return { url, status: 0, contentType: null, bytes: new Uint8Array(0) };
    }
    if (response.status >= 300 && response.status < 400) {
      this.fail(6, `${url} redirects (${response.status}) to ${response.headers.get('location') ?? '?'}`);
      await response.body?.cancel();
      return undefined;
    }
    this.checked.add(6);
    const bytes = await readCapped(response, MAX_RESPONSE_BYTES);
    if (!bytes) return { url, status: 0, contentType: null, bytes: new Uint8Array(0), tooLarge: true };
    return { url, status: response.status, contentType: response.headers.get('content-type'), bytes };
  }

  /** Requirements 7 and 9: the metadata at the well-known URL, strict JSON with the schema's required fields. */
  private async metadata(): Promise<Record<string, unknown> | undefined> {
    const url = `${this.origin}${METADATA_PATH}`;
    const res = await this.get(url);
    if (!loaded(res)) {
      const why = `${url}: ${unavailable(res)}`;
      this.fail(9, why);
      this.fail(7, why);
      return undefined;
    }
    this.metadataBytes = res.bytes;
    const parsed = strictJson(res.bytes);
    if (typeof parsed === 'string' || !isObject(parsed)) {
      this.fail(7, `${url}: ${typeof parsed === 'string' ? parsed : 'not a JSON object'}`);
      this.fail(9, `${url} does not serve provider metadata`);
      return undefined;
    }
    for (const problem of metadataProblems(parsed, url)) this.fail(7, problem);
    if (!/^application\/json\s*(;|$)/.test(res.contentType ?? ''))
      this.fail(7, `${url}: Content-Type ${res.contentType}, not application/json`);
    return parsed;
  }

  /** Requirement 8: `/.well-known/security.txt` has a CSAF field whose target is byte-identical to the metadata. */
  private async securityTxt(): Promise<void> {
    const url = `${this.origin}/.well-known/security.txt`;
    const res = await this.get(url);
    if (!loaded(res)) return this.fail(8, `${url}: ${unavailable(res)}`);
    const text = new TextDecoder().decode(res.bytes);
    const field = (name: string) =>
      text
        .split(/\r?\n/)
        .filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
        .map((line) => line.slice(name.length + 1).trim());
    const [csaf] = field('CSAF');
    if (!field('Contact').length) this.fail(8, `${url}: no Contact field (RFC 9116)`);
    const [expires] = field('Expires');
    const expiry = expires ? Date.parse(expires) : Number.NaN;
    if (Number.isNaN(expiry)) this.fail(8, `${url}: no valid Expires field (RFC 9116)`);
    else if (expiry < Date.now()) this.fail(8, `${url}: expired at ${expires}`);
    if (!csaf) return this.fail(8, `${url}: no CSAF field`);
    const target = new URL(csaf, `${this.origin}/.well-known/`).toString();
    if (!target.startsWith('https://') && !this.loopback) this.fail(8, `the CSAF field ${csaf} is not https`);
    const metadata = await this.get(target);
    if (!loaded(metadata)) return this.fail(8, `${target} from security.txt does not load`);
    if (!this.metadataBytes || digest('sha256', metadata.bytes) !== digest('sha256', this.metadataBytes))
      this.fail(8, `${target} from security.txt is not byte-identical to ${METADATA_PATH}`);
  }

  /** Requirement 10 needs a DNS name `csaf.data.security.<domain>`: a loopback address or IP has none. */
  private dnsPath(): void {
    const host = new URL(this.origin).hostname.replace(/^\[|\]$/g, '');
    if (this.loopback || isIP(host))
      this.skip(10, `${host} is an address, not a domain with a csaf.data.security name`);
    else this.skip(10, 'not checked: requirement 8 or 9 serves the same purpose (one of 8-10)');
  }

  /** Requirement 20: each key loads from its URL and has the fingerprint the metadata gives. */
  private async publicKeys(metadata: Record<string, unknown>): Promise<void> {
    const keys = Array.isArray(metadata.public_openpgp_keys) ? metadata.public_openpgp_keys : [];
    if (keys.length === 0) return this.fail(20, 'no public_openpgp_keys in the provider metadata');
    for (const entry of keys) {
      if (!isObject(entry) || typeof entry.url !== 'string') {
        this.fail(20, 'a public_openpgp_keys entry has no url');
        continue;
      }
      const url = new URL(entry.url, `${this.origin}${METADATA_PATH}`).toString();
      if (!url.startsWith('https://') && !this.loopback) this.fail(20, `${url} is not https`);
      const res = await this.get(url);
      if (!loaded(res)) {
        this.fail(20, `${url}: ${unavailable(res)}`);
        continue;
      }
      let key: openpgp.PublicKey;
      try {
        key = await openpgp.readKey({ armoredKey: new TextDecoder().decode(res.bytes) });
      } catch {
        this.fail(20, `${url} is not an armored OpenPGP public key`);
        continue;
      }
      if (key.isPrivate()) this.fail(20, `${url} publishes a private key`);
      if (
        typeof entry.fingerprint === 'string' &&
        key.getFingerprint().toLowerCase() !== entry.fingerprint.toLowerCase()
      )
        this.fail(20, `the key at ${url} has fingerprint ${key.getFingerprint()}, not ${entry.fingerprint}`);
      else this.keys.push(key.toPublic());
    }
  }

  /** Requirements 11-14 and, for each document, 1, 2, 4, 5, 18 and 19. */
  private async directory(directoryUrl: string, labels: Map<string, string[]>): Promise<void> {
    const base = directoryUrl.endsWith('/') ? directoryUrl : `${directoryUrl}/`;
    let headers: Record<string, string> = {};
    let index = await this.get(`${base}index.txt`);
    const isProtected = index?.status === 401 || index?.status === 403;
    if (isProtected) {
      if (!this.options.credentials) {
        this.skip(12, `${base} is access protected and no credentials were given`);
        return;
      }
      headers = this.options.credentials;
      index = await this.get(`${base}index.txt`, headers);
    }
    const paths = new Set<string>();
    if (!loaded(index)) this.fail(12, `${base}index.txt: ${unavailable(index)}`);
    else {
      this.checked.add(12);
      for (const line of new TextDecoder().decode(index.bytes).split('\n')) {
        const path = line.replace(/\r$/, '');
        if (path === '') continue;
        if (!/^\d{4}\/[^/]+\.json$/.test(path))
          this.fail(12, `${base}index.txt: "${path}" is not <year>/<file>.json`);
        paths.add(path);
      }
    }
    const changes = await this.changes(base, headers);
    for (const path of changes.keys())
      if (!paths.has(path)) this.fail(13, `${path} is in changes.csv but not in index.txt`);
    for (const path of paths)
      if (!changes.has(path)) this.fail(13, `${path} is in index.txt but not in changes.csv`);
    const all = [...new Set([...paths, ...changes.keys()])].slice(0, this.options.maxDocuments ?? 1000);
    const listed = await this.listings(base, headers, all);
    for (const path of all) {
      if (!listed.has(path)) this.fail(14, `${path} is not linked from the listing of its folder`);
      await this.document(base, path, headers, isProtected, changes.get(path), labels);
    }
  }

  /** Requirement 13: changes.csv, at least two columns, RFC 3339 times, newest first. */
  private async changes(base: string, headers: Record<string, string>): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const res = await this.get(`${base}changes.csv`, headers);
    if (!loaded(res)) {
      this.fail(13, `${base}changes.csv: ${unavailable(res)}`);
      return found;
    }
    this.checked.add(13);
    let previous = Number.POSITIVE_INFINITY;
    for (const [i, line] of new TextDecoder().decode(res.bytes).split('\n').entries()) {
      if (line.replace(/\r$/, '') === '') continue;
      const columns = csvColumns(line.replace(/\r$/, ''));
      const [path, time] = columns;
      if (columns.length < 2 || path === undefined || time === undefined) {
        this.fail(13, `changes.csv line ${i + 1}: fewer than two columns`);
        continue;
      }
      if (!RFC3339.test(time) || Number.isNaN(Date.parse(time))) {
        this.fail(13, `changes.csv line ${i + 1}: "${time}" is not an RFC 3339 time`);
        continue;
      }
      if (Date.parse(time) > previous)
        this.fail(13, `changes.csv is not sorted newest first (line ${i + 1})`);
      previous = Date.parse(time);
      found.set(path, time);
    }
    return found;
  }

  /** Requirement 14: the directory lists each year folder, and each year folder each document in it. */
  private async listings(
    base: string,
    headers: Record<string, string>,
    paths: readonly string[],
  ): Promise<Set<string>> {
    const listed = new Set<string>();
    const root = await this.get(base, headers);
    if (!loaded(root)) {
      this.fail(14, `${base}: no directory listing (${unavailable(root)})`);
      return listed;
    }
    this.checked.add(14);
    const rootLinks = linksOf(root, base);
    for (const year of new Set(paths.map((p) => p.split('/')[0] ?? ''))) {
      const folder = new URL(`${year}/`, base).toString();
      if (!rootLinks.has(folder)) this.fail(14, `${base} does not link the folder ${year}/`);
      const listing = await this.get(folder, headers);
      if (!loaded(listing)) {
        this.fail(14, `${folder}: no directory listing`);
        continue;
      }
      const links = linksOf(listing, folder);
      for (const path of paths) if (links.has(new URL(path, base).toString())) listed.add(path);
    }
    return listed;
  }

  /** One document: strict JSON, CSAF structure, name, folder, TLP access, hashes and signature. */
  private async document(
    base: string,
    path: string,
    headers: Record<string, string>,
    isProtected: boolean,
    changedAt: string | undefined,
    labels: Map<string, string[]>,
  ): Promise<void> {
    const url = new URL(path, base).toString();
    if (!url.startsWith(base)) return this.fail(12, `${path} points outside its directory`);
    const res = await this.get(url, headers);
    if (!loaded(res)) return this.fail(1, `${url}: ${unavailable(res)}`);
    this.checked.add(1);
    if (res.contentType !== 'application/json')
      this.fail(1, `${url}: Content-Type "${res.contentType}", not exactly application/json`);
    const file = path.split('/').at(-1) ?? '';
    await this.integrity(url, file, res.bytes, headers);
    await this.signature(url, res.bytes, headers);
    const doc = strictJson(res.bytes);
    if (typeof doc === 'string') return this.fail(1, `${url}: ${doc}`);
    for (const problem of documentProblems(doc)) this.fail(1, `${url}: ${problem}`);
    for (const problem of (await this.options.validateDocument?.(doc)) ?? [])
      this.fail(1, `${url}: ${problem}`);
    const tracking = field(doc, 'document', 'tracking');
    const id = field(tracking, 'id');
    if (typeof id === 'string') {
      const expected = `${id.toLowerCase().replace(/[^+\-a-z0-9]+/g, '_')}.json`;
      this.checked.add(2);
      if (file !== expected) this.fail(2, `${url}: the file name for tracking.id ${id} is ${expected}`);
    }
    const initial = field(tracking, 'initial_release_date');
    this.checked.add(11);
    if (typeof initial !== 'string' || Number.isNaN(Date.parse(initial)))
      this.fail(11, `${url}: no initial_release_date`);
    else if (String(new Date(initial).getUTCFullYear()) !== path.split('/')[0])
      this.fail(11, `${url} belongs in the folder ${new Date(initial).getUTCFullYear()}`);
    const current = field(tracking, 'current_release_date');
    if (
      changedAt !== undefined &&
      (typeof current !== 'string' || Date.parse(current) !== Date.parse(changedAt))
    )
      this.fail(13, `changes.csv gives ${changedAt} for ${path}, the document ${String(current)}`);

    const label = field(doc, 'document', 'distribution', 'tlp', 'label');
    if (typeof label === 'string') labels.set(label, [...(labels.get(label) ?? []), base]);
    if (label === 'WHITE' || label === undefined) {
      this.checked.add(4);
      if (isProtected) this.fail(4, `${url} is TLP:WHITE but needs signing in`);
    }
    if (label === 'AMBER' || label === 'RED') {
      this.checked.add(5);
      const anonymous = await this.get(url);
      if (!isProtected || (anonymous && anonymous.status !== 401 && anonymous.status !== 403))
        this.fail(5, `${url} is TLP:${label} but readable without signing in`);
    }
  }

  /** Requirement 18: `.sha256` and `.sha512` start with the hex digest of the document's bytes. */
  private async integrity(url: string, file: string, bytes: Uint8Array, headers: Record<string, string>) {
    this.checked.add(18);
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const res = await this.get(`${url}.${algorithm}`, headers);
      if (!loaded(res)) {
        this.fail(18, `${url}.${algorithm}: ${unavailable(res)}`);
        continue;
      }
      const [hex, name] = new TextDecoder().decode(res.bytes).trim().split(/\s+/);
      if (hex?.toLowerCase() !== digest(algorithm, bytes))
        this.fail(18, `${url}.${algorithm} does not match ${url}`);
      if (name !== undefined && name.replace(/^\*/, '') !== file)
        this.fail(18, `${url}.${algorithm} names ${name}, not ${file}`);
    }
  }

  /** Requirement 19: the `.asc` is a detached signature of the bytes by a key of the metadata. */
  private async signature(url: string, bytes: Uint8Array, headers: Record<string, string>) {
    this.checked.add(19);
    const res = await this.get(`${url}.asc`, headers);
    if (!loaded(res)) return this.fail(19, `${url}.asc: ${unavailable(res)}`);
    if (this.keys.length === 0)
      return this.fail(19, `${url}.asc: no key from the metadata to verify it with`);
    try {
      const signature = await openpgp.readSignature({
        armoredSignature: new TextDecoder().decode(res.bytes),
      });
      const result = await openpgp.verify({
        message: await openpgp.createMessage({ binary: bytes }),
        signature,
        verificationKeys: this.keys,
        format: 'binary',
      });
      const verified = await Promise.all(
        result.signatures.map((s) =>
          s.verified.then(
            () => true,
            () => false,
          ),
        ),
      );
      if (!verified.includes(true)) this.fail(19, `${url}.asc does not verify with the keys of the metadata`);
    } catch {
      this.fail(19, `${url}.asc is not an armored OpenPGP signature`);
    }
  }
}

/** The problems of provider metadata against the required fields and types of `provider_json_schema.json`. */
function metadataProblems(pmd: Record<string, unknown>, fetchedFrom: string): string[] {
  const problems: string[] = [];
  const canonical = pmd.canonical_url;
  if (
    typeof canonical !== 'string' ||
    !URL.canParse(canonical) ||
    !canonical.endsWith('/provider-metadata.json')
  )
    problems.push('canonical_url is not a URL ending in /provider-metadata.json');
  else if (canonical !== fetchedFrom)
    problems.push(`canonical_url ${canonical} is not where it was fetched from`);
  if (typeof pmd.last_updated !== 'string' || !RFC3339.test(pmd.last_updated))
    problems.push('last_updated is not a date-time');
  for (const flag of ['list_on_CSAF_aggregators', 'mirror_on_CSAF_aggregators'])
    if (typeof pmd[flag] !== 'boolean') problems.push(`${flag} is not a boolean`);
  if (pmd.metadata_version !== '2.0') problems.push('metadata_version is not "2.0"');
  if (typeof pmd.role !== 'string' || !ROLES.includes(pmd.role)) problems.push('role is not a CSAF role');
  problems.push(...publisherProblems(pmd.publisher, 'publisher'));
  if (pmd.distributions !== undefined) {
    if (!Array.isArray(pmd.distributions) || pmd.distributions.length === 0)
      problems.push('distributions is not a non-empty array');
    else
      for (const d of pmd.distributions)
        if (!isObject(d) || Object.keys(d).length === 0) problems.push('a distribution is empty');
        else if (
          d.directory_url !== undefined &&
          (typeof d.directory_url !== 'string' || !URL.canParse(d.directory_url))
        )
          problems.push('a directory_url is not a URL');
  }
  if (pmd.public_openpgp_keys !== undefined) {
    if (!Array.isArray(pmd.public_openpgp_keys)) problems.push('public_openpgp_keys is not an array');
    else
      for (const key of pmd.public_openpgp_keys)
        if (!isObject(key) || typeof key.url !== 'string' || !URL.canParse(key.url))
          problems.push('a public_openpgp_keys entry has no url');
        else if (
          key.fingerprint !== undefined &&
          (typeof key.fingerprint !== 'string' || !FINGERPRINT.test(key.fingerprint))
        )
          problems.push(`fingerprint ${String(key.fingerprint)} is not 40 or more hex digits`);
  }
  return problems;
}

function publisherProblems(publisher: unknown, where: string): string[] {
  if (!isObject(publisher)) return [`${where} is missing`];
  const problems: string[] = [];
  if (typeof publisher.category !== 'string' || !PUBLISHER_CATEGORIES.includes(publisher.category))
    problems.push(`${where}.category is not a publisher category`);
  if (typeof publisher.name !== 'string' || publisher.name === '') problems.push(`${where}.name is empty`);
  if (typeof publisher.namespace !== 'string' || !URL.canParse(publisher.namespace))
    problems.push(`${where}.namespace is not a URL`);
  return problems;
}

/** The problems of a CSAF 2.0 document's required structure (what the schema requires of every document). */
function documentProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const document = field(doc, 'document');
  if (!isObject(document)) return ['no document object'];
  if (typeof document.category !== 'string' || document.category === '')
    problems.push('document.category is missing');
  if (document.csaf_version !== '2.0') problems.push('document.csaf_version is not "2.0"');
  if (typeof document.title !== 'string' || document.title === '') problems.push('document.title is missing');
  problems.push(...publisherProblems(document.publisher, 'document.publisher'));
  const label = field(document, 'distribution', 'tlp', 'label');
  if (label !== undefined && (typeof label !== 'string' || !TLP.includes(label)))
    problems.push('document.distribution.tlp.label is not a TLP label');
  const tracking = field(document, 'tracking');
  if (!isObject(tracking)) return [...problems, 'document.tracking is missing'];
  if (typeof tracking.id !== 'string' || tracking.id.trim() === '') problems.push('tracking.id is missing');
  if (!['draft', 'interim', 'final'].includes(String(tracking.status)))
    problems.push('tracking.status is invalid');
  if (typeof tracking.version !== 'string' || tracking.version === '')
    problems.push('tracking.version is missing');
  for (const date of ['initial_release_date', 'current_release_date'])
    if (typeof tracking[date] !== 'string' || !RFC3339.test(tracking[date] as string))
      problems.push(`tracking.${date} is not a date-time`);
  const history = tracking.revision_history;
  if (!Array.isArray(history) || history.length === 0) problems.push('tracking.revision_history is empty');
  else if (!history.some((r) => isObject(r) && r.number === tracking.version))
    problems.push(`tracking.version ${String(tracking.version)} is not in the revision history`);
  return problems;
}

/** The parsed JSON of `bytes` read as strict UTF-8 (no BOM), or why it is not. */
function strictJson(bytes: Uint8Array): unknown {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'starts with a byte order mark';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'not valid UTF-8';
  }
  try {
    const value = JSON.parse(text) as unknown;
    return isObject(value) ? value : 'not a JSON object';
  } catch {
    return 'not valid JSON';
  }
}

/** Absolute URLs of the `href`s of an HTML listing. */
function linksOf(listing: Fetched, base: string): Set<string> {
  const html = new TextDecoder().decode(listing.bytes);
  const links = new Set<string>();
  for (const match of html.matchAll(/href\s*=\s*"([^"]*)"|href\s*=\s*'([^']*)'/gi)) {
    const href = (match[1] ?? match[2] ?? '').replace(/&amp;/g, '&');
    if (URL.canParse(href, base)) links.add(new URL(href, base).toString());
  }
  return links;
}

/** The fields of one CSV line (RFC 4180 quoting). */
function csvColumns(line: string): string[] {
  const columns: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else value += line[i++];
      }
      columns.push(value);
      i++;
    } else {
      const end = line.indexOf(',', i);
      columns.push(line.slice(i, end === -1 ? line.length : end));
      i = end === -1 ? line.length + 1 : end + 1;
    }
  }
  return columns;
}

/** Whether a GET was answered 200 (not redirected, not refused). */
function loaded(res: Fetched | undefined): res is Fetched {
  return res?.status === 200;
}

/** Why a GET did not load. */
function unavailable(res: Fetched | undefined): string {
  if (!res) return 'redirected';
  if (res.tooLarge) return `over ${MAX_RESPONSE_BYTES} bytes`;
  return res.status === 0 ? 'unreachable' : `status ${res.status}`;
}

/** The body of `response`, or undefined (and the rest left unread) once it passes `max` bytes. */
async function readCapped(response: Response, max: number): Promise<Uint8Array | undefined> {
  if (Number(response.headers.get('content-length') ?? 0) > max) {
    await response.body?.cancel();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function digest(algorithm: 'sha256' | 'sha512', bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return current;
}
