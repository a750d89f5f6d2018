import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as basic from '@secvisogram/csaf-validator-lib/basic.js';
import validate, { type DocumentTest } from '@secvisogram/csaf-validator-lib/validate.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packArchiveBytes, sha256Indicator, writeVendorKeys } from '../packs/test-packs.js';
import { addHubToken, runHubCli, type ServeProcess, startServe } from '../testing/run-hub-cli.js';
import { type Json, jsonCaller } from '../testing/test-hub.js';
import { checkProvider, unmetForRole } from './csaf/provider-check.js';
import { parseFeed, xmllint } from './feeds/test-feed-parsers.js';

const APPS = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../../packs/3cx-2023/apps.json', import.meta.url)), 'utf8'),
) as { apps: object[] };
const MANDATORY: DocumentTest[] = Object.entries(basic)
  .filter(([name]) => name !== 'default')
  .map(([, test]) => test);

const chainsweep = (args: string[], home: string) => runHubCli(args, '', home);

/**
 * The walkthrough on the real CLI and a real `chainsweep serve`: vendor staff publish the 3CX advisory and
 * revise it twice (the second revision by uploading the next pack for it); the feeds show one entry with the latest
 * `updated`, the CSAF document validates with three revisions, the provider passes the trusted-provider
 * requirements, a customer's webhook hears every revision and pack, and a scanner installs the linked pack from
 * the hub's feed.
 */
describe('advisories end to end, on the real serve and CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainsweep-advisories-'));
  const data = join(dir, 'data');
  const keys = writeVendorKeys(dir);
  let hub: ServeProcess;
  let staff: string;
  let customer: string;
  let receiver: Server;
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];

  const api = jsonCaller((path, init) => fetch(`${hub.url}${path}`, init));
  const upload = async (sequence: number, query = '') => {
    const archive = await packArchiveBytes(
      '3cx-2023',
      { apps: APPS.apps, indicators: [sha256Indicator(`loader-${sequence}`, String(sequence).repeat(64))] },
      { key: keys.packKey, sequence },
    );
    const res = await fetch(`${hub.url}/api/v1/packs${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/gzip' },
      body: new Uint8Array(archive),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as Json;
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));

    expect((await runHubCli(['hub', '--data', data, 'org', 'add', 'Vendor'])).code).toBe(0);
    expect((await runHubCli(['hub', '--data', data, 'org', 'add', 'Acme'])).code).toBe(0);
    staff = await addHubToken(data, 'Vendor', 'api', 'vendor-staff');
    customer = await addHubToken(data, 'Acme', 'api', 'org-admin');
    hub = await startServe([
      '--data',
      data,
      '--listen',
      '127.0.0.1:0',
      '--publisher',
      '3CX PSIRT',
      '--pack-keys',
      keys.keyList,
      '--root-keyring',
      keys.rootKeyring,
      '--feed-key',
      keys.feedKeyFile,
      '--webhook-allow-http',
      '--webhook-allow-private',
    ]);
  });
  afterAll(async () => {
    hub?.child.kill('SIGTERM');
    await hub?.exited;
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('publishes, revises twice, and every view agrees', async () => {
    const { port } = receiver.address() as AddressInfo;
    const hook = await api('POST', '/api/v1/webhooks', customer, {
      url: `http://127.0.0.1:${port}/chainsweep`,
      events: ['advisory.published', 'advisory.revised', 'pack.published'],
    });
    expect(hook.status, JSON.stringify(hook.json)).toBe(201);
    const secret = String(hook.json.secret ?? hook.json.webhook?.secret);

    await upload(7);
    const draft = await api('POST', '/api/v1/advisories', staff, {
      content: {
        title: '3CX Desktop App: trojanized builds for Windows',
        severity: 'critical',
        status: 'interim',
        summary: 'Signed 3CX Desktop App builds 18.12.407 and 18.12.416 load a malicious library.',
        body: '## What happened\n\nThe Electron app was trojanized in the build pipeline. <script>alert(1)</script>',
        products: [{ packId: '3cx-2023', appId: '3cx-desktopapp-windows' }],
        remediation: ['Uninstall the desktop app: `chainsweep remediate --apply`.', 'Use the web app (PWA).'],
        packs: [{ packId: '3cx-2023', sequence: 7 }],
        references: [
          { url: 'https://www.3cx.com/blog/news/desktopapp-security-alert-updates/', summary: 'Vendor' },
        ],
      },
    });
    expect(draft.status, JSON.stringify(draft.json)).toBe(201);
    const id = draft.json.advisory.id as string;
    expect(draft.json.advisory.trackingId).toMatch(/^DRAFT-/);
    expect((await fetch(`${hub.url}/advisories/${draft.json.advisory.slug}`)).status).toBe(404);

    const published = await api('POST', `/api/v1/advisories/${id}/publish`, staff, { baseSeq: 1 });
    expect(published.status).toBe(200);
    // Publication gives the advisory its permanent tracking id.
    const { trackingId, slug } = published.json.advisory as { trackingId: string; slug: string };
    expect(trackingId).toBe(`CSW-${new Date().getUTCFullYear()}-0001`);
    const revised = await api('PUT', `/api/v1/advisories/${id}`, staff, {
      baseSeq: 2,
      summary: 'macOS builds are affected too.',
      content: {
        ...draft.json.advisory.revisions[0].content,
        title: '3CX Desktop App: trojanized builds for Windows and macOS',
        products: [
          { packId: '3cx-2023', appId: '3cx-desktopapp-windows' },
          { packId: '3cx-2023', appId: '3cx-desktopapp-macos' },
        ],
      },
    });
    expect(revised.status, JSON.stringify(revised.json)).toBe(200);
    const linked = await upload(8, `?advisory=${trackingId}`);
    expect(linked.advisory.revision.number).toBe(3);

    // Atom and RSS: one entry, its updated the third revision's time, and well-formed.
    const current = (await api('GET', `/api/v1/advisories/${id}`, customer)).json.advisory;
    expect(current.revisions.map((r: Json) => r.number)).toEqual([1, 2, 3]);
    for (const path of ['/advisories/feed.atom', '/advisories/feed.rss']) {
      const xml = await (await fetch(`${hub.url}${path}`)).text();
      expect(xmllint(xml).status).toBe(0);
      const feed = parseFeed(xml);
      expect(feed.bozo, feed.bozoException).toBe(false);
      expect(feed.entries).toHaveLength(1);
      expect(xml).not.toContain('<script>');
      if (path.endsWith('.atom'))
        expect(Date.parse(feed.entries[0]?.updated ?? '')).toBe(Date.parse(current.currentReleaseDate));
      expect(feed.entries[0]?.enclosures[0]).toMatchObject({
        type: 'application/gzip',
        length: String(linked.pack.archiveSize),
      });
    }

    // The web page, readable without JavaScript, with the whole history.
    const page = await (await fetch(`${hub.url}/advisories/${slug}`)).text();
    expect(page).toContain('Windows and macOS');
    expect(page).toContain('Pack 3cx-2023 #8 published.');
    expect(page).not.toContain('<script>alert');

    // CSAF: the document validates with three revisions; the provider passes as a trusted provider.
    const csafPath = `/.well-known/csaf/white/${new Date(current.initialReleaseDate).getUTCFullYear()}/${slug}.json`;
    const doc = (await (await fetch(`${hub.url}${csafPath}`)).json()) as Json;
    const result = await validate(MANDATORY, doc);
    expect(result.tests.filter((t) => !t.isValid).map((t) => t.name)).toEqual([]);
    expect(doc.document.tracking.revision_history).toHaveLength(3);
    expect(doc.document.tracking.id).toBe(trackingId);
    expect(Date.parse(doc.document.tracking.initial_release_date)).toBe(Date.parse(current.revisions[0].at));
    expect(Date.parse(doc.document.tracking.current_release_date)).toBe(Date.parse(current.revisions[2].at));
    expect(doc.document.publisher.name).toBe('3CX PSIRT');
    // A customer-only (TLP:AMBER) advisory: requirement 5 wants it served only with credentials.
    const amber = await api('POST', '/api/v1/advisories', staff, {
      content: { ...draft.json.advisory.revisions[0].content, tlp: 'AMBER', title: 'Customer-only notice' },
    });
    expect(
      (await api('POST', `/api/v1/advisories/${amber.json.advisory.id}/publish`, staff, { baseSeq: 1 }))
        .status,
    ).toBe(200);
    const results = await checkProvider(hub.url, { credentials: { authorization: `Bearer ${customer}` } });
    const amberAdvisory = (await api('GET', `/api/v1/advisories/${amber.json.advisory.id}`, staff)).json
      .advisory;
    const amberYear = new Date(amberAdvisory.initialReleaseDate).getUTCFullYear();
    const amberDoc = await fetch(
      `${hub.url}/.well-known/csaf/amber/${amberYear}/${amberAdvisory.slug}.json`,
      {
        headers: { authorization: `Bearer ${customer}` },
      },
    );
    expect(amberDoc.status).toBe(200);
    expect(amberDoc.headers.get('cache-control')).toBe('private, no-cache');
    expect(amberDoc.headers.get('vary')).toBe('Authorization, Cookie');
    expect(unmetForRole(results, 'csaf_trusted_provider')).toEqual([]);
    expect(results.filter((r) => r.status === 'passed').map((r) => r.requirement)).toEqual([
      1, 2, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 18, 19, 20,
    ]);

    // The scanner installs the pack the advisory links, from the hub's feed.
    const home = mkdtempSync(join(tmpdir(), 'chainsweep-scanner-home-'));
    const update = await chainsweep(
      ['packs', 'update', '--feed', `${hub.url}/feed/`, '--root-keyring', keys.rootKeyring],
      home,
    );
    expect(update.stdout).toMatch(/installed\s+3cx-2023: installed #8/);
    expect(update.code).toBe(0);
    expect(existsSync(join(home, 'packs', '3cx-2023', '8', 'apps.json'))).toBe(true);

    // The customer's webhook heard both packs and every revision of both advisories, each signed with its secret.
    for (let i = 0; i < 100 && received.length < 6; i++) await new Promise((r) => setTimeout(r, 100));
    const events = received.map((r) => JSON.parse(r.body) as Json);
    expect(events.map((e) => e.event).sort()).toEqual([
      'advisory.published',
      'advisory.published',
      'advisory.revised',
      'advisory.revised',
      'pack.published',
      'pack.published',
    ]);
    // A TLP:AMBER advisory's words never leave the hub by webhook: only which one changed, and where.
    const amberEvent = events.find((e) => e.data.tlp === 'AMBER');
    expect(amberEvent?.data).toEqual({
      trackingId: expect.any(String),
      revision: 1,
      tlp: 'AMBER',
      url: expect.stringContaining('/advisories/'),
    });
    expect(JSON.stringify(amberEvent)).not.toContain('Customer-only');
    for (const { headers, body } of received) {
      const mac = createHmac('sha256', secret)
        .update(`${headers['x-chainsweep-timestamp']}.${body}`)
        .digest('hex');
      expect(headers['x-chainsweep-signature']).toBe(`sha256=${mac}`);
    }
  });
});
