import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '../testing/test-db.js';
import { testApp } from '../testing/test-hub.js';
import { loadConsoleAssets } from './console-assets.js';
import { consoleRoutes } from './console-routes.js';

const SHELL = '<!doctype html><title>console</title>';

describe('the console files', () => {
  let store: TestStore;
  let dir: string;
  const appOver = (assets: ReturnType<typeof loadConsoleAssets>) =>
    testApp(store.db, { extra: [consoleRoutes(assets)] }).app;

  beforeEach(async () => {
    store = await openTestStore('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), SHELL);
    writeFileSync(join(dir, 'assets/app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'manifest.webmanifest'), '{}');
    writeFileSync(join(dir, 'notes.txt'), 'not served');
  });
  afterEach(() => store.cleanup());

  it('serves built files compressed with their type and ETag, and the shell for the app paths', async () => {
    const app = appOver(loadConsoleAssets(dir));
    const js = await app.request('/console/assets/app.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await js.arrayBuffer())).toString()).toBe('console.log(1)');
    const etag = js.headers.get('etag') as string;
    expect((await app.request('/console/assets/app.js', { headers: { 'if-none-match': etag } })).status).toBe(
      304,
    );
    expect((await app.request('/console/manifest.webmanifest')).headers.get('content-type')).toBe(
      'application/manifest+json',
    );
    for (const path of ['/console/', '/console/hosts/abc', '/console/tickets/new']) {
      const page = await app.request(path);
      expect(await page.text()).toBe(SHELL);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    }
    for (const path of [
      '/console/assets/missing.js',
      '/console/notes.txt',
      '/console/../hub.db',
      '/console/%2e%2e/x.js',
    ])
      expect((await app.request(path)).status, path).toBe(404);
  });

  it('leads / and a refused ticket’s forum link into the console, and says when it is not built', async () => {
    const app = appOver(loadConsoleAssets(dir));
    expect((await app.request('/')).headers.get('location')).toBe('/console/');
    expect((await app.request('/forum/3cx-2023')).headers.get('location')).toBe(
      '/console/forum/incidents/3cx-2023',
    );
    expect((await app.request('/forum/..%2Fevil')).status).toBe(404);
    const missing = await appOver(loadConsoleAssets(join(dir, 'nowhere'))).request('/console/');
    expect(missing.status).toBe(503);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('CONSOLE_NOT_BUILT');
  });
});
