import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchConsoleBrowser, screenshotPage, seriousA11yViolations } from '../testing/console-browser.js';
import { affectedWindowsImage, cleanImage, reportOnce } from '../testing/fleet-fixtures.js';
import { addHubToken, runHubCli, type ServeProcess, startServe } from '../testing/run-hub-cli.js';
import { jsonCaller } from '../testing/test-hub.js';

const PASSWORD = 'console test password';

/**
 * The console in Debian's Chromium against the real `chainsweep serve`: two agents report from fixture trees (one
 * with the affected 3CX install and an indicator hit, one clean); an IT lead signs in, sees the counts and the
 * host, opens its remediation plan; staff publish an advisory that the Atom feed then lists; tickets are opened in
 * the console until the quota is used and the next is refused; the app is installable, opens offline with the age
 * of its data, and each page passes axe-core with no serious violation (screenshots in test-artifacts/console).
 */
describe('the console in a real browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainsweep-console-'));
  const data = join(dir, 'data');
  let hub: ServeProcess;
  let browser: BrowserContext;
  let page: Page;
  let staff: string;
  const pages: { name: string; violations: unknown[] }[] = [];
  /** Script errors and console errors of the page (a CSP refusal shows here). */
  const pageErrors: string[] = [];

  /** Checks the page with axe-core and photographs it. */
  const audit = async (name: string) => {
    await page.waitForLoadState('networkidle');
    const wide = await seriousA11yViolations(page);
    await page.setViewportSize({ width: 375, height: 900 });
    const narrow = await seriousA11yViolations(page);
    // At 375 px nothing but a table's own scroll region may be wider than the screen.
    const overflow = Number(await page.evaluate('document.scrollingElement.scrollWidth - window.innerWidth'));
    await page.setViewportSize({ width: 1280, height: 900 });
    pages.push({
      name,
      violations: [...wide, ...narrow, ...(overflow > 0 ? [`${overflow} px too wide at 375`] : [])],
    });
    await screenshotPage(page, name);
  };
  const go = async (path: string, ready: string) => {
    await page.goto(`${hub.url}${path}`);
    await page.getByRole('heading', { level: 1, name: ready }).waitFor();
  };

  beforeAll(async () => {
    for (const org of ['Vendor', 'Acme'])
      expect((await runHubCli(['hub', '--data', data, 'org', 'add', org])).code).toBe(0);
    const lead = await runHubCli(
      ['hub', '--data', data, 'user', 'add', 'it-lead@acme.test', '--org', 'Acme', '--role', 'org-admin'],
      `${PASSWORD}\n`,
    );
    expect(lead.code, lead.stderr).toBe(0);
    const ana = await runHubCli(
      ['hub', '--data', data, 'user', 'add', 'ana@vendor.test', '--org', 'Vendor', '--role', 'vendor-staff'],
      `${PASSWORD}\n`,
    );
    expect(ana.code, ana.stderr).toBe(0);
    staff = await addHubToken(data, 'Vendor', 'api', 'vendor-staff');
    const enrol = await addHubToken(data, 'Acme', 'enrol');
    hub = await startServe(['--data', data, '--listen', '127.0.0.1:0']);
    const affected = await affectedWindowsImage();
    const dll = readFileSync(
      join(affected, 'Users/alice/AppData/Local/Programs/3CXDesktopApp/app/ffmpeg.dll'),
    );
    const ioc = join(dir, 'iocs.txt');
    writeFileSync(ioc, `${createHash('sha256').update(dll).digest('hex')};trojanized ffmpeg.dll (test)\n`);
    for (const image of [affected, cleanImage()]) {
      const run = await reportOnce(hub.url, enrol, image, ['--ioc', ioc]);
      expect(run.code, run.stderr).toBe(0);
    }
    const api = jsonCaller((path, init) => fetch(`${hub.url}${path}`, init));
    expect(
      (await api('POST', '/api/v1/incidents', staff, { slug: '3cx-2023', title: '3CX Desktop App' })).status,
    ).toBe(201);
    browser = await launchConsoleBrowser();
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    hub?.child.kill('SIGTERM');
    await hub?.exited;
  });

  it('has an accessibility check that finds a serious violation when there is one', async () => {
    await page.setContent(
      '<html lang="en"><title>t</title><body><main><img src="x.png"><button></button></main></body></html>',
    );
    expect((await seriousA11yViolations(page)).map((v) => v.id).sort()).toEqual(['button-name', 'image-alt']);
  });

  it('signs in, shows the fleet and the affected host with its remediation plan', async () => {
    await page.goto(`${hub.url}/console/`);
    await page.getByRole('heading', { name: 'Sign in to chainsweep' }).waitFor();
    await audit('sign-in');
    await page.getByLabel('Email').fill('it-lead@acme.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();
    await page.getByRole('heading', { name: 'Hosts by state (2)' }).waitFor();
    const count = (state: string) => page.locator(`.count[data-state="${state}"]`).textContent();
    expect({
      hits: await count('hits'),
      clean: await count('clean'),
      affected: await count('affected'),
    }).toEqual({
      hits: '1',
      clean: '1',
      affected: '0',
    });
    await audit('overview');

    await page.getByRole('link', { name: /Indicator hits/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Hosts' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'hits' });
    await expect.poll(() => row.count()).toBe(1);
    await audit('hosts');
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Remediation plan' }).waitFor();
    await expect
      .poll(() => page.locator('.command code').allTextContents())
      .toEqual(['chainsweep remediate', 'chainsweep remediate --apply']);
    expect(await page.locator('tr.row-affected').first().textContent()).toMatch(/18\.12\.416.*affected/);
    expect(await page.locator('.findings').textContent()).toContain('trojanized ffmpeg.dll (test)');
    await audit('host');
  }, 120_000);

  it('shows a published advisory, which the Atom feed lists', async () => {
    const api = jsonCaller((path, init) => fetch(`${hub.url}${path}`, init));
    const draft = await api('POST', '/api/v1/advisories', staff, {
      content: {
        title: '3CX Desktop App: trojanized builds',
        severity: 'critical',
        status: 'interim',
        summary: 'Signed builds 18.12.407 and 18.12.416 load a malicious library.',
        body: 'Uninstall the desktop app and use the web app.',
      },
    });
    expect(draft.status, JSON.stringify(draft.json)).toBe(201);
    expect(
      (await api('POST', `/api/v1/advisories/${draft.json.advisory.id}/publish`, staff, { baseSeq: 1 }))
        .status,
    ).toBe(200);
    await go('/console/advisories', 'Advisories');
    await page.getByRole('link', { name: '3CX Desktop App: trojanized builds' }).waitFor();
    await audit('advisories');
    const atom = await page.request.get(`${hub.url}/advisories/feed.atom`);
    expect(await atom.text()).toContain('3CX Desktop App: trojanized builds');
  }, 60_000);

  it('opens tickets with the quota shown first, until the next is refused with the forum link', async () => {
    for (const left of [3, 2, 1]) {
      await go('/console/tickets/new', 'Open a ticket');
      await expect
        .poll(() => page.getByTestId('quota').textContent())
        .toContain(`${left} of 3 free tickets left`);
      if (left === 3) await audit('new-ticket');
      await page.getByLabel('Subject').fill(`Question ${4 - left}`);
      await page.getByLabel('What happened (Markdown)').fill('Is our build affected?');
      await page.getByRole('button', { name: 'Open the ticket' }).click();
      await page.getByRole('heading', { level: 1, name: `Question ${4 - left}` }).waitFor();
    }
    await audit('ticket');
    await go('/console/tickets/new', 'Open a ticket');
    await expect.poll(() => page.getByTestId('quota').textContent()).toContain('0 of 3 free tickets left');
    await page.getByLabel('Subject').fill('Question 4');
    await page.getByLabel('What happened (Markdown)').fill('One more');
    await page.getByRole('button', { name: 'Open the ticket' }).click();
    const refusal = page.getByRole('alert');
    await expect
      .poll(() => refusal.textContent())
      .toContain('free tickets of your organisation for 3cx-2023 are used up');
    expect(await refusal.getByRole('link').getAttribute('href')).toBe('/console/forum/incidents/3cx-2023');
    await go('/console/tickets', 'Your tickets');
    await audit('tickets');
    await go('/console/forum', 'Forum');
    await audit('forum');
    await go('/console/admin', 'Admin');
    await page.getByLabel('Name').fill('rollout');
    await page.getByRole('button', { name: 'Create' }).click();
    const token = (await page.getByTestId('new-token').textContent()) ?? '';
    expect(token).toMatch(/^csw_enrol_/);
    expect(await page.locator('pre.command').textContent()).toBe(
      `chainsweep agent --hub ${hub.url} --enrol ${token} --state /var/lib/chainsweep-agent --every 6h`,
    );
    await audit('admin');
  }, 120_000);

  it('is installable, and opens offline with the age of its data', async () => {
    await go('/console/', 'Fleet overview');
    const cdp = await browser.newCDPSession(page);
    await expect
      .poll(
        async () =>
          ((await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] })
            .installabilityErrors,
        {
          timeout: 10_000,
        },
      )
      .toEqual([]);
    await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
    await page.reload();
    await page.getByRole('heading', { name: 'Hosts by state (2)' }).waitFor();
    expect(await page.evaluate('Boolean(navigator.serviceWorker.controller)')).toBe(true);
    await browser.setOffline(true);
    try {
      await page.reload();
      await page.getByRole('heading', { name: 'Hosts by state (2)' }).waitFor();
      await expect
        .poll(() => page.getByRole('status').first().textContent())
        .toMatch(/^Offline: showing data saved/);
      await audit('overview-offline');
    } finally {
      await browser.setOffline(false);
    }
  }, 60_000);

  it('lets staff write an advisory with a live preview, publish it, and take a ticket from the queue', async () => {
    await go('/console/', 'Fleet overview');
    expect(await page.evaluate('caches.keys()')).toContain('chainsweep-data');
    // Signing out while the hub is away would only look like it: the console says so and stays signed in.
    await browser.setOffline(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Not signed out');
    await browser.setOffline(false);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to chainsweep' }).waitFor();
    // What the last user saw is not kept for the next one.
    expect(await page.evaluate('caches.keys()')).not.toContain('chainsweep-data');
    // By keyboard alone: Tab to each field, Enter to send.
    await page.keyboard.press('Tab');
    await page.keyboard.type('ana@vendor.test');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.id')).toBe('main');
    expect(new URL(page.url()).pathname).toBe('/console/');
    await go('/console/advisories/new', 'New advisory');
    await page.getByLabel('Title').fill('3CX Desktop App for macOS: trojanized too');
    await page
      .getByLabel('Summary (one paragraph)')
      .fill('The macOS builds 18.11.1213 and later are affected.');
    await page
      .getByLabel('Body (Markdown)')
      .fill('## Steps\n\nRemove **both** apps. <script>alert(1)</script>');
    const preview = page.locator('.preview .markdown');
    await expect.poll(() => preview.innerHTML()).toContain('<h2>Steps</h2>');
    expect(await preview.locator('script').count()).toBe(0);
    await audit('advisory-editor');
    await page.getByRole('button', { name: 'Save the draft' }).click();
    await page.getByRole('heading', { level: 1, name: 'Advisories' }).waitFor();
    await page.getByRole('button', { name: 'Publish 3CX Desktop App for macOS: trojanized too' }).click();
    await page.getByRole('link', { name: '3CX Desktop App for macOS: trojanized too' }).waitFor();
    expect(await (await page.request.get(`${hub.url}/advisories/feed.atom`)).text()).toContain(
      'for macOS: trojanized too',
    );
    await go('/console/tickets', 'Ticket queue');
    // Staff see every organisation's tickets and hosts, each with its organisation's name.
    await expect
      .poll(() => page.getByRole('row').filter({ hasText: 'Question 1' }).textContent())
      .toContain('Acme');
    await audit('ticket-queue');
    await page.getByRole('link', { name: 'Question 1' }).click();
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('assigned to you');
    await go('/console/hosts', 'Hosts');
    await expect
      .poll(() => page.getByRole('row').filter({ hasText: 'clean' }).textContent())
      .toContain('Acme');
  }, 120_000);

  it('has no serious accessibility violation on any page', () => {
    expect(pages.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'sign-in',
        'overview',
        'hosts',
        'host',
        'advisories',
        'new-ticket',
        'ticket',
        'tickets',
        'forum',
        'admin',
        'overview-offline',
      ]),
    );
    expect(pages.filter((p) => p.violations.length > 0)).toEqual([]);
  });

  it('ran without a script error or a refused resource', () => {
    // A 401 before sign-in, the 409 of the refused ticket, and offline misses are answers the pages handle.
    const handled =
      /^Failed to load resource: (the server responded with a status of (401|409|503)|net::ERR_INTERNET_DISCONNECTED)/;
    expect(pageErrors.filter((e) => !handled.test(e))).toEqual([]);
  });
});
