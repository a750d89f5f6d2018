/** @module The Atom 1.0 feed of the signed packs the hub serves: one entry per pack version, its archive enclosed. */

import { archivePath } from '../../packs/hub-feed.js';
import type { HubPack } from '../../packs/hub-pack-store.js';
import { absoluteUrl } from '../urls.js';
import { EMPTY_FEED_UPDATED, rfc3339 } from './advisory-entry.js';
import { emptyElement, escapeText, textElement, xmlSafe } from './xml.js';

/** Where the hub's pack feed lives; archives and `latest.json` are relative to it, as `packs publish` lays out. */
export const PACK_FEED_ROOT = '/feed/';

/** What the pack feed is titled and linked with. */
export interface PackFeedConfig {
  publicUrl: string;
  /** The feed's signed name (`latest.json` `feed`). */
  feedName: string;
  publisher: { name: string };
}

/** When a pack version became available here: its upload, or its signed publication if that is later. */
export function packUpdated(pack: HubPack): string {
  return rfc3339(Date.parse(pack.published) > Date.parse(pack.uploadedAt) ? pack.published : pack.uploadedAt);
}

/**
 * The Atom feed of `packs`, newest first: entry ids as the offline `feed.atom` of `packs publish` names them
 * (`urn:chainsweep:pack:<id>:<sequence>`), `published` the signed publication time, the archive as
 * `rel="enclosure"` (`application/gzip`, its size), and a text content naming its digest and expiry.
 */
export function packAtomFeed(packs: readonly HubPack[], config: PackFeedConfig): string {
  const url = (path: string) => absoluteUrl(config.publicUrl, `${PACK_FEED_ROOT}${path}`);
  const sorted = [...packs].sort(
    (x, y) =>
      Date.parse(packUpdated(y)) - Date.parse(packUpdated(x)) ||
      x.id.localeCompare(y.id) ||
      y.sequence - x.sequence,
  );
  const newest = sorted[0];
  const entries = sorted.map((pack) => {
    const children = [
      `<id>urn:chainsweep:pack:${escapeText(encodeURIComponent(xmlSafe(pack.id)))}:${pack.sequence}</id>`,
      textElement('title', `${pack.title} (#${pack.sequence})`, { type: 'text' }),
      `<published>${rfc3339(pack.published)}</published>`,
      `<updated>${packUpdated(pack)}</updated>`,
      emptyElement('link', {
        rel: 'enclosure',
        type: 'application/gzip',
        length: pack.archiveSize,
        title: `${pack.id}-${pack.sequence}.tar.gz`,
        href: url(archivePath(pack.id, pack.sequence)),
      }),
      emptyElement('category', { term: pack.id }),
      textElement(
        'content',
        `Signature pack ${pack.id}, sequence ${pack.sequence}: ${pack.archiveSize} bytes, SHA-256 ${pack.archiveSha256}, signed by key ${pack.keyId}, expires ${rfc3339(pack.expires)}.`,
        { type: 'text' },
      ),
    ];
    return `  <entry>\n${children.map((child) => `    ${child}`).join('\n')}\n  </entry>`;
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
    `  <id>urn:chainsweep:feed:${escapeText(encodeURIComponent(xmlSafe(config.feedName)))}</id>`,
    `  ${textElement('title', `${config.feedName} signature packs`, { type: 'text' })}`,
    `  <updated>${newest ? packUpdated(newest) : EMPTY_FEED_UPDATED}</updated>`,
    `  <author>${textElement('name', config.publisher.name)}</author>`,
    `  ${emptyElement('link', { rel: 'self', type: 'application/atom+xml', href: url('feed.atom') })}`,
    `  ${emptyElement('link', { rel: 'alternate', type: 'application/json', href: url('latest.json') })}`,
    '  <generator>chainsweep hub</generator>',
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}
