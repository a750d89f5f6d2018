import * as basic from '@secvisogram/csaf-validator-lib/basic.js';
import validate, { type DocumentTest } from '@secvisogram/csaf-validator-lib/validate.js';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubEnv } from '../../http/hub-env.js';
import { type Listening, listenApp } from '../../serve.js';
import { openTestStore, type TestStore } from '../../testing/test-db.js';
import { type SeededOrg, seedOrg } from '../../testing/test-hub.js';
import { AMBER_ADVISORY, THREE_CX_ADVISORY } from '../test-advisories.js';
import { type CsafTestHub, csafTestHub } from './csaf-test-hub.js';
import { checkProvider, type RequirementResult, unmetForRole } from './provider-check.js';

const MANDATORY: DocumentTest[] = Object.entries(basic)
  .filter(([name]) => name !== 'default')
  .map(([, test]) => test);

/** The schema and mandatory tests of the CSAF validator, as the walk's document check. */
async function validatorProblems(doc: unknown): Promise<string[]> {
  const result = await validate(MANDATORY, doc);
  return result.tests.flatMap((t) => t.errors.map((e) => `${t.name} ${e.instancePath}: ${e.message}`));
}

/** Changes the hub's answer to `path` (the walk meets a provider that got something wrong). */
type Tamper = (path: string, response: Response, request: Request) => Promise<Response> | Response;

const DOC = '/.well-known/csaf/white/2023/csw-2023-0001.json';

const byStatus = (results: RequirementResult[], status: RequirementResult['status']) =>
  results.filter((r) => r.status === status).map((r) => r.requirement);

describe('checkProvider against the hub on a loopback port', () => {
  let store: TestStore;
  let hub: CsafTestHub;
  let org: SeededOrg;
  let server: Listening;
  let tamper: Tamper | undefined;
  let credentials: Record<string, string>;

  beforeAll(async () => {
    store = await openTestStore('sqlite');
    hub = await csafTestHub(store.db, [THREE_CX_ADVISORY, AMBER_ADVISORY]);
    org = await seedOrg(store.db, 'A');
    credentials = { authorization: `Bearer ${org.apiTokens['org-member']}` };
    // A front that may alter the hub's answers; untouched it passes everything through.
    const front = new Hono<HubEnv>().all('*', async (c) => {
      const response = await hub.app.fetch(c.req.raw);
      return tamper ? tamper(new URL(c.req.url).pathname, response, c.req.raw) : response;
    });
    server = await listenApp(front, '127.0.0.1', 0);
    hub.deps.config.publicUrl = server.url;
    hub.deps.config.publisher = { ...hub.deps.config.publisher, namespace: server.url };
  });
  afterAll(async () => {
    await server.close();
    await store.cleanup();
  });

  const check = async (t?: Tamper) => {
    tamper = t;
    try {
      return await checkProvider(server.url, { credentials, validateDocument: validatorProblems });
    } finally {
      tamper = undefined;
    }
  };

  it('passes every trusted-provider requirement that applies to a loopback HTTP server', async () => {
    const results = await check();
    const failed = results.filter((r) => r.status === 'failed');
    expect(failed).toEqual([]);
    expect(byStatus(results, 'not applicable')).toEqual([3, 10, 15, 16, 17]);
    expect(byStatus(results, 'passed')).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 18, 19, 20]);
    expect(unmetForRole(results, 'csaf_trusted_provider')).toEqual([]);
  });

  it('cannot check the AMBER directory without credentials, and still passes the public part', async () => {
    const results = await checkProvider(server.url);
    expect(results.filter((r) => r.status === 'failed')).toEqual([]);
    expect(byStatus(results, 'not applicable')).toContain(5);
  });

  const text = async (response: Response, change: (body: string) => string) => {
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    return new Response(change(await response.text()), { status: response.status, headers });
  };

  it.each<[string, Tamper, number[]]>([
    [
      'a tampered document byte',
      (path, res) => (path === DOC ? text(res, (b) => b.replace('trojanized', 'trojanizeD')) : res),
      [18, 19],
    ],
    [
      'a wrong hash',
      (path, res) => (path === `${DOC}.sha256` ? text(res, (b) => `${'0'.repeat(64)}${b.slice(64)}`) : res),
      [18],
    ],
    [
      'a Content-Type with a charset',
      (path, res) => {
        if (path !== DOC) return res;
        const headers = new Headers(res.headers);
        headers.set('content-type', 'application/json; charset=utf-8');
        return new Response(res.body, { status: res.status, headers });
      },
      [1],
    ],
    [
      'changes.csv oldest first',
      (path, res) =>
        path === '/.well-known/csaf/white/changes.csv'
          ? text(res, () =>
              [
                '"2023/csw-2023-0001.json","2023-03-30T09:00:00.000Z"',
                '"2023/csw-2023-0001.json","2023-04-11T16:30:00.000Z"',
                '',
              ].join('\n'),
            )
          : res,
      [13],
    ],
    [
      'changes.csv with a time that is not current_release_date',
      (path, res) =>
        path === '/.well-known/csaf/white/changes.csv'
          ? text(res, (b) => b.replace('2023-04-11T16:30', '2023-04-11T16:31'))
          : res,
      [13],
    ],
    [
      'a year listing without the document',
      (path, res) =>
        path.endsWith('/2023/') ? text(res, (b) => b.replace('href="csw-2023-0001.json"', 'href="x"')) : res,
      [14],
    ],
    [
      'a signature made for other bytes',
      async (path, res) => {
        if (path !== `${DOC}.asc`) return res;
        const other = await hub.app.request('/.well-known/csaf/amber/2024/csw-2024-0001.json.asc', {
          headers: credentials,
        });
        return new Response(await other.text(), { status: 200, headers: res.headers });
      },
      [19],
    ],
    [
      'a metadata fingerprint that is not the key',
      (path, res) =>
        path === '/.well-known/csaf/provider-metadata.json'
          ? text(res, (b) => b.replace(/"fingerprint": "[0-9A-F]{40}"/, `"fingerprint": "${'A'.repeat(40)}"`))
          : res,
      [19, 20],
    ],
    [
      'security.txt pointing to other bytes',
      (path, res) =>
        path === '/.well-known/security.txt'
          ? text(res, (b) => b.replace('provider-metadata.json', 'white/index.txt'))
          : res,
      [8],
    ],
    [
      'a redirect',
      (path, res) =>
        path === '/.well-known/csaf/white/index.txt'
          ? new Response(null, { status: 302, headers: { location: '/elsewhere/index.txt' } })
          : res,
      [6, 12, 13],
    ],
    [
      'TLP:AMBER readable without signing in',
      async (path, res, request) =>
        path.startsWith('/.well-known/csaf/amber/') && !request.headers.get('authorization')
          ? hub.app.request(path, { headers: credentials })
          : res,
      [5],
    ],
    [
      'a document in the wrong year folder',
      async (path, res) => {
        const white = '/.well-known/csaf/white/';
        if (path.startsWith(`${white}2024/`)) return hub.app.request(path.replace('/2024/', '/2023/'));
        return [`${white}index.txt`, `${white}changes.csv`, white].includes(path)
          ? text(res, (b) => b.replaceAll('2023/', '2024/'))
          : res;
      },
      [11],
    ],
    [
      'metadata missing its role',
      (path, res) =>
        path === '/.well-known/csaf/provider-metadata.json'
          ? text(res, (b) => b.replace('"role": "csaf_trusted_provider"', '"role": "csaf_vendor"'))
          : res,
      [7],
    ],
    [
      'a document over 16 MiB (not read to its end)',
      (path, res) => (path === DOC ? text(res, (b) => b + ' '.repeat(17 * 1024 * 1024)) : res),
      [1],
    ],
    [
      'a document with a byte order mark',
      (path, res) => (path === DOC ? text(res, (b) => `\ufeff${b}`) : res),
      [1, 18, 19],
    ],
  ])('fails with %s', async (_, t, requirements) => {
    const results = await check(t);
    const failed = byStatus(results, 'failed');
    expect(failed).toEqual(requirements);
    // security.txt is one of 8-10: with the well-known URL (9) passing, the role is still met.
    if (requirements.some((n) => n !== 8))
      expect(unmetForRole(results, 'csaf_trusted_provider')).not.toEqual([]);
    else expect(unmetForRole(results, 'csaf_trusted_provider')).toEqual([]);
  });
});
