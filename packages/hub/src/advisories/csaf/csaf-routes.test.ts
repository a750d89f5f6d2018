import { createHash, randomUUID } from 'node:crypto';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from '../../app.js';
import { enrolAgent } from '../../auth/agents.js';
import { createToken } from '../../auth/tokens.js';
import type { Caller } from '../../http/openapi.js';
import { DIALECTS, openTestStore, type TestStore } from '../../testing/test-db.js';
import { type SeededOrg, seedOrg } from '../../testing/test-hub.js';
import { AMBER_ADVISORY, THREE_CX_ADVISORY } from '../test-advisories.js';
import { csafDocument, csafJson } from './csaf-document.js';
import { type CsafTestHub, csafTestHub } from './csaf-test-hub.js';

const WHITE = '/.well-known/csaf/white';
const AMBER = '/.well-known/csaf/amber';
const DOC = `${WHITE}/2023/csw-2023-0001.json`;

describe.each(DIALECTS)('CSAF provider routes on %s', (dialect) => {
  let store: TestStore;
  let hub: CsafTestHub;
  let org: SeededOrg;
  let agent: string;
  const get = (path: string, headers: Record<string, string> = {}) => hub.app.request(path, { headers });
  const member = () => ({ authorization: `Bearer ${org.apiTokens['org-member']}` });

  beforeAll(async () => {
    store = await openTestStore(dialect);
    hub = await csafTestHub(store.db, [THREE_CX_ADVISORY, AMBER_ADVISORY]);
    org = await seedOrg(store.db, 'A');
    const enrol = await createToken(
      store.db,
      { kind: 'org', orgId: org.orgId },
      { kind: 'enrol' },
      new Date(),
    );
    const enrolled = await enrolAgent(
      store.db,
      { token: enrol.token, hostId: 'h', hostname: 'h' },
      new Date(),
    );
    agent = enrolled?.credential ?? '';
  });
  afterAll(() => store.cleanup());

  it('publishes trusted-provider metadata with the key and a directory per served label, keys sorted', async () => {
    const res = await get('/.well-known/csaf/provider-metadata.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    const pmd = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(pmd)).toEqual([...Object.keys(pmd)].sort((a, b) => a.localeCompare(b, 'en')));
    expect(pmd).toEqual({
      canonical_url: 'https://hub.example/.well-known/csaf/provider-metadata.json',
      distributions: [
        { directory_url: 'https://hub.example/.well-known/csaf/white/' },
        { directory_url: 'https://hub.example/.well-known/csaf/amber/' },
      ],
      last_updated: '2024-01-15T10:00:00.000Z',
      list_on_CSAF_aggregators: true,
      metadata_version: '2.0',
      mirror_on_CSAF_aggregators: true,
      public_openpgp_keys: [
        {
          fingerprint: hub.signer.fingerprint,
          url: `https://hub.example/.well-known/csaf/openpgp/${hub.signer.fingerprint}.asc`,
        },
      ],
      publisher: { category: 'vendor', name: 'Vendor PSIRT', namespace: 'https://vendor.example' },
      role: 'csaf_trusted_provider',
    });
    const again = await get('/.well-known/csaf/provider-metadata.json', {
      'if-none-match': res.headers.get('etag') ?? '',
    });
    expect(again.status).toBe(304);
  });

  it('lists only WHITE when no other label has a document, and reads the public URL per request', async () => {
    const white = await csafTestHub(store.db, [THREE_CX_ADVISORY]);
    white.deps.config.publicUrl = 'https://elsewhere.example:8443';
    const pmd = (await (await white.app.request('/.well-known/csaf/provider-metadata.json')).json()) as {
      distributions: unknown[];
      canonical_url: string;
    };
    expect(pmd.distributions).toEqual([
      { directory_url: 'https://elsewhere.example:8443/.well-known/csaf/white/' },
    ]);
    expect(pmd.canonical_url).toBe('https://elsewhere.example:8443/.well-known/csaf/provider-metadata.json');
    expect((await white.app.request(`${AMBER}/index.txt`, { headers: member() })).status).toBe(404);
  });

  it('serves the public key under its fingerprint, and nothing else there', async () => {
    const res = await get(`/.well-known/csaf/openpgp/${hub.signer.fingerprint}.asc`);
    expect(res.status).toBe(200);
    const key = await openpgp.readKey({ armoredKey: await res.text() });
    expect(key.getFingerprint().toUpperCase()).toBe(hub.signer.fingerprint);
    expect(key.isPrivate()).toBe(false);
    expect((await get(`/.well-known/csaf/openpgp/${hub.signer.fingerprint.toLowerCase()}.asc`)).status).toBe(
      404,
    );
    expect((await get('/.well-known/csaf/openpgp/../provider-metadata.json')).status).not.toBe(500);
  });

  it('serves security.txt with the CSAF field first, a contact and an expiry under a year', async () => {
    const res = await get('/.well-known/security.txt');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const lines = (await res.text()).trim().split('\n');
    expect(lines[0]).toBe('CSAF: https://hub.example/.well-known/csaf/provider-metadata.json');
    expect(lines).toContain('Contact: https://vendor.example');
    const expires = Date.parse(lines.find((l) => l.startsWith('Expires: '))?.slice(9) ?? '');
    expect(expires - Date.now()).toBeGreaterThan(150 * 86_400_000);
    expect(expires - Date.now()).toBeLessThan(365 * 86_400_000);
  });

  it('serves index.txt and changes.csv of the WHITE directory, conditional on ETag', async () => {
    const index = await get(`${WHITE}/index.txt`);
    expect(await index.text()).toBe('2023/csw-2023-0001.json\n');
    expect(index.headers.get('last-modified')).toBe(new Date('2023-04-11T16:30:00Z').toUTCString());
    const changes = await get(`${WHITE}/changes.csv`);
    expect(changes.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await changes.text()).toBe('"2023/csw-2023-0001.json","2023-04-11T16:30:00.000Z"\n');
    const cached = await get(`${WHITE}/changes.csv`, { 'if-none-match': changes.headers.get('etag') ?? '' });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
  });

  it('serves the document as application/json exactly, the bytes csafJson gives, with hashes and signature', async () => {
    const res = await get(DOC);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const expected = csafJson(csafDocument(THREE_CX_ADVISORY, hub.deps.config));
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
    expect(await (await get(`${DOC}.sha256`)).text()).toBe(
      `${createHash('sha256').update(bytes).digest('hex')}  csw-2023-0001.json\n`,
    );
    expect(await (await get(`${DOC}.sha512`)).text()).toBe(
      `${createHash('sha512').update(bytes).digest('hex')}  csw-2023-0001.json\n`,
    );
    const asc = await get(`${DOC}.asc`);
    expect(asc.headers.get('content-type')).toBe('application/pgp-signature');
    const verified = await openpgp.verify({
      message: await openpgp.createMessage({ binary: bytes }),
      signature: await openpgp.readSignature({ armoredSignature: await asc.text() }),
      verificationKeys: await openpgp.readKey({ armoredKey: hub.signer.publicKeyArmored }),
    });
    await expect(verified.signatures[0]?.verified).resolves.toBe(true);
    expect((await get(DOC, { 'if-none-match': res.headers.get('etag') ?? '' })).status).toBe(304);
    const head = await hub.app.request(DOC, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json');
    expect(await head.text()).toBe('');
  });

  it('lists the directory and each year folder, linking every file', async () => {
    const root = await (await get(`${WHITE}/`)).text();
    for (const name of ['index.txt', 'changes.csv', '2023/']) expect(root).toContain(`href="${name}"`);
    expect(root).not.toContain('2024/');
    const year = await (await get(`${WHITE}/2023/`)).text();
    for (const suffix of ['', '.asc', '.sha256', '.sha512'])
      expect(year).toContain(`href="csw-2023-0001.json${suffix}"`);
    expect((await get(`${WHITE}/2024/`)).status).toBe(404);
  });

  it('keeps TLP:AMBER behind sign-in: 401 JSON for anonymous callers and agents, served to users', async () => {
    for (const headers of [{}, { authorization: `Bearer ${agent}` }]) {
      for (const path of [
        `${AMBER}/`,
        `${AMBER}/index.txt`,
        `${AMBER}/changes.csv`,
        `${AMBER}/2024/csw-2024-0001.json`,
      ]) {
        const res = await get(path, headers);
        expect({ path, status: res.status }).toEqual({ path, status: 401 });
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
      }
    }
    expect(await (await get(`${AMBER}/index.txt`, member())).text()).toBe('2024/csw-2024-0001.json\n');
    const doc = await get(`${AMBER}/2024/csw-2024-0001.json`, member());
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { document: { distribution: unknown } }).document.distribution).toEqual({
      tlp: { label: 'AMBER', url: 'https://www.first.org/tlp/' },
    });
    // The AMBER document is nowhere in the public directory, even for a signed-in caller.
    expect((await get(`${WHITE}/2024/csw-2024-0001.json`, member())).status).toBe(404);
    expect(await (await get(`${WHITE}/index.txt`, member())).text()).not.toContain('2024');
  });

  it.each([
    `${WHITE}/2024/csw-2023-0001.json`,
    `${WHITE}/2023/CSW-2023-0001.json`,
    `${WHITE}/2023/csw-2023-0001.json.sha1`,
    `${WHITE}/2023/csw-2023-0001.JSON`,
    `${WHITE}/2023/csw-2023-0001`,
    `${WHITE}/2023/..%2f..%2fprovider-metadata.json`,
    `${WHITE}/2023/%2e%2e%2fcsw-2023-0001.json`,
    `${WHITE}/abcd/csw-2023-0001.json`,
    `${WHITE}/2023/csw-2023-0001.json/`,
    `${WHITE}/2023`,
    '/.well-known/csaf/black/index.txt',
  ])('answers 404 JSON (never 500) to %s', async (path) => {
    const res = await get(path, member());
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('has an OpenAPI entry for every route, and each caller reaches exactly what its x-roles say', async () => {
    const doc = (await (await get(OPENAPI_PATH)).json()) as {
      paths: Record<string, Record<string, { 'x-roles': Caller[] }>>;
    };
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/.well-known/'));
    expect(paths.sort()).toEqual(
      [
        '/.well-known/csaf/provider-metadata.json',
        '/.well-known/csaf/openpgp/{file}',
        '/.well-known/security.txt',
        ...['/.well-known/csaf/white', '/.well-known/csaf/{tlp}'].flatMap((d) => [
          `${d}/`,
          `${d}/index.txt`,
          `${d}/changes.csv`,
          `${d}/{year}/`,
          `${d}/{year}/{file}`,
        ]),
      ].sort(),
    );
    const headers: Partial<Record<Caller, Record<string, string>>> = {
      anonymous: {},
      agent: { authorization: `Bearer ${agent}` },
      'org-member': member(),
      'vendor-staff': { authorization: `Bearer ${org.apiTokens['vendor-staff']}` },
    };
    const wrong: string[] = [];
    for (const path of paths)
      for (const [caller, h] of Object.entries(headers) as [Caller, Record<string, string>][]) {
        const res = await get(
          path.replace(/\{[^}]+\}/g, () => randomUUID()),
          h,
        );
        const refused = res.status === 401 || res.status === 403;
        if (refused === doc.paths[path]?.get?.['x-roles'].includes(caller))
          wrong.push(`${caller} ${path}: ${res.status}`);
      }
    expect(wrong).toEqual([]);
  });
});
