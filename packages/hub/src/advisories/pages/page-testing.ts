/** @module Helpers of the advisory page tests: a hub app over a fixed list, xmllint, and the page's own head. */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultHubConfig } from '../../config.js';
import type { HubDeps } from '../../http/hub-env.js';
import type { Db } from '../../store/db.js';
import { type TestApp, testApp } from '../../testing/test-hub.js';
import type { PublishedAdvisory } from '../model.js';
import { listedAdvisories } from '../test-advisories.js';
import { advisoryPageRoutes } from './advisory-page-routes.js';
import { PAGES_CSS_HREF } from './pages-css.js';

/** The hub's app with the advisory pages of `advisories` mounted. */
export function pagesApp(db: Db, advisories: readonly PublishedAdvisory[]): TestApp {
  const deps: HubDeps = { db, config: defaultHubConfig('/nonexistent'), now: () => new Date() };
  return testApp(db, { extra: [advisoryPageRoutes(deps, listedAdvisories(advisories))] });
}

/** The tags of the page's own `<head>`: the only `<meta>` and `<link>` a page may hold. */
const OWN_HEAD_TAGS = [
  '<meta charset="utf-8">',
  '<meta name="viewport" content="width=device-width, initial-scale=1">',
  `<link rel="stylesheet" href="${PAGES_CSS_HREF}">`,
  '<link rel="alternate" type="application/atom+xml" title="Security advisories (Atom)" href="/advisories/feed.atom">',
  '<link rel="alternate" type="application/rss+xml" title="Security advisories (RSS)" href="/advisories/feed.rss">',
];

/** `page` without the tags of its own head (each must be there, inside `<head>`, once), for `activeMarkupIn`. */
export function withoutOwnHead(page: string): string {
  const headEnd = page.indexOf('</head>');
  let rest = page;
  for (const tag of OWN_HEAD_TAGS) {
    const at = rest.indexOf(tag);
    if (at < 0 || at > headEnd) throw new Error(`the page's head lacks ${tag}`);
    rest = rest.slice(0, at) + rest.slice(at + tag.length);
  }
  return rest;
}

/** HTML5 elements libxml2's HTML 4 parser does not know: it names each ("Tag main invalid"), nothing else is allowed. */
const HTML5_TAGS = /^Tag (header|nav|main|section|article|footer|time) invalid$/;

/** What `xmllint --html --noout` finds wrong with `page`, but for the HTML5 element names it does not know. */
export function xmllintErrors(page: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'advisory-page-'));
  const file = join(dir, 'page.html');
  try {
    writeFileSync(file, page);
    const run = spawnSync('xmllint', ['--html', '--noout', file], { encoding: 'utf8' });
    if (run.error) throw run.error;
    const messages = run.stderr
      .split('\n')
      .filter((line) => line.startsWith(`${file}:`))
      .map((line) =>
        line.replace(/^[^:]+:\d+: (HTML parser error|parser error|parser warning) : /, '').trim(),
      )
      .filter((message) => !HTML5_TAGS.test(message));
    return run.status === 0 ? messages : [`exit ${run.status}`, ...messages];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every `href` value of `page`, unescaped of `&amp;`. */
export function hrefsOf(page: string): string[] {
  return [...page.matchAll(/\shref="([^"]*)"/g)].map((m) => (m[1] as string).replaceAll('&amp;', '&'));
}

/** The markup of the section whose heading has id `id`. */
export function sectionOf(page: string, id: string): string {
  const start = page.indexOf(`<h2 id="${id}">`);
  if (start < 0) throw new Error(`no section ${id}`);
  return page.slice(start, page.indexOf('</section>', start));
}
