/** @module Published advisories for the tests of pages, feeds and CSAF: the 3CX incident with three revisions. */

import type {
  AdvisoryContent,
  AdvisoryViewer,
  PublishedAdvisories,
  PublishedAdvisory,
  PublishedRevision,
} from './model.js';

const STAFF = { id: '00000000-0000-4000-8000-000000000001', name: 'psirt@vendor.example' };

const WINDOWS = {
  packId: '3cx-2023',
  appId: '3cx-desktopapp-windows',
  vendor: '3CX Ltd',
  product: '3CX Desktop App',
  platforms: ['windows'],
  affected: ['18.12.407', '18.12.416'],
  fixed: ['18.12.422', '18.12.425'],
};
const MACOS = {
  packId: '3cx-2023',
  appId: '3cx-desktopapp-macos',
  vendor: '3CX Ltd',
  product: '3CX Desktop App',
  platforms: ['macos'],
  affected: ['18.11.1213', '18.12.402', '18.12.407', '18.12.416'],
  fixed: ['18.12.422'],
};

/** The first revision: Windows only, no CVE yet, interim. */
export const FIRST_CONTENT: AdvisoryContent = {
  title: '3CX Desktop App: trojanized builds for Windows',
  severity: 'critical',
  tlp: 'WHITE',
  status: 'interim',
  summary: 'Signed 3CX Desktop App builds 18.12.407 and 18.12.416 for Windows load a malicious library.',
  body: [
    '## What happened',
    '',
    'The Electron desktop app was trojanized in the build pipeline and shipped **signed**.',
    '',
    '- `ffmpeg.dll` loads `d3dcompiler_47.dll`, which downloads a second stage',
    '- see [CISA](https://www.cisa.gov/news-events/alerts/2023/03/30/supply-chain-attack-against-3cxdesktopapp)',
  ].join('\n'),
  products: [WINDOWS],
  remediation: [
    'Uninstall the desktop app: `chainsweep remediate --apply`.',
    'Use the web app (PWA) instead.',
  ],
  packs: [{ packId: '3cx-2023', sequence: 6 }],
  references: [
    {
      url: 'https://www.3cx.com/blog/news/desktopapp-security-alert-updates/',
      summary: "The vendor's incident updates",
    },
  ],
  cves: [],
};

/** The second revision adds macOS; the third assigns the CVE and moves to final. */
export const SECOND_CONTENT: AdvisoryContent = {
  ...FIRST_CONTENT,
  title: '3CX Desktop App: trojanized builds for Windows and macOS',
  products: [WINDOWS, MACOS],
};
export const THIRD_CONTENT: AdvisoryContent = {
  ...SECOND_CONTENT,
  status: 'final',
  cves: ['CVE-2023-29059'],
};

const revision = (
  number: number,
  at: string,
  summary: string,
  content: AdvisoryContent,
): PublishedRevision => ({
  number,
  at,
  author: STAFF,
  summary,
  content,
});

/** The 3CX advisory as published and revised twice (TLP:WHITE). */
export const THREE_CX_ADVISORY: PublishedAdvisory = {
  id: '6f1d2c1e-3b0a-4c55-9a57-2a0f3e5d9c01',
  trackingId: 'CSW-2023-0001',
  slug: 'csw-2023-0001',
  initialReleaseDate: '2023-03-30T09:00:00.000Z',
  currentReleaseDate: '2023-04-11T16:30:00.000Z',
  revisions: [
    revision(1, '2023-03-30T09:00:00.000Z', 'Initial release.', FIRST_CONTENT),
    revision(2, '2023-03-31T18:00:00.000Z', 'macOS builds affected too.', SECOND_CONTENT),
    revision(3, '2023-04-11T16:30:00.000Z', 'CVE-2023-29059 assigned; final.', THIRD_CONTENT),
  ],
  packs: [
    {
      packId: '3cx-2023',
      sequence: 6,
      title: '3CX DesktopApp supply-chain compromise (March 2023)',
      archivePath: '/feed/packs/3cx-2023-6.tar.gz',
      archiveSize: 48213,
      archiveSha256: 'a'.repeat(64),
      mediaType: 'application/gzip',
    },
  ],
};

/** A TLP:AMBER advisory, readable only when signed in. */
export const AMBER_ADVISORY: PublishedAdvisory = {
  id: '0b7e8a52-51c4-4f0e-8f6e-5e8f3c2d1a02',
  trackingId: 'CSW-2024-0001',
  slug: 'csw-2024-0001',
  initialReleaseDate: '2024-01-15T10:00:00.000Z',
  currentReleaseDate: '2024-01-15T10:00:00.000Z',
  revisions: [
    revision(1, '2024-01-15T10:00:00.000Z', 'Initial release.', {
      ...FIRST_CONTENT,
      title: 'Customer-only notice',
      tlp: 'AMBER',
      packs: [],
    }),
  ],
  packs: [],
};

/** Published advisories from a fixed list, filtered by TLP as the store filters them. */
export function listedAdvisories(advisories: readonly PublishedAdvisory[]): PublishedAdvisories {
  const readable = (viewer: AdvisoryViewer) =>
    advisories
      .filter((a) => viewer === 'signed-in' || a.revisions.at(-1)?.content.tlp === 'WHITE')
      .sort((x, y) => y.currentReleaseDate.localeCompare(x.currentReleaseDate));
  return {
    list: async (viewer) => readable(viewer),
    get: async (slug, viewer) => readable(viewer).find((a) => a.slug === slug.toLowerCase()),
  };
}
