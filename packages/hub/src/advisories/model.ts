/** TLP 1.0 labels, as CSAF 2.0 names them; only WHITE is readable without signing in. */
export const TLP_LABELS = ['WHITE', 'GREEN', 'AMBER', 'RED'] as const;
export type TlpLabel = (typeof TLP_LABELS)[number];

export const ADVISORY_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AdvisorySeverity = (typeof ADVISORY_SEVERITIES)[number];

/** `interim` while the incident moves (consumers poll more often), `final` once it has settled (CSAF tracking status). */
export const ADVISORY_STATUSES = ['interim', 'final'] as const;
export type AdvisoryStatus = (typeof ADVISORY_STATUSES)[number];

/**
 * One affected product, copied from an `apps.json` entry of a pack stored at the hub when the revision was saved,
 * so the advisory names exactly the versions the scanner flags, and every revision keeps what it said.
 */
export interface AdvisoryProduct {
  packId: string;
  /** The app's `id` in the pack's `apps.json`. */
  appId: string;
  vendor: string;
  product: string;
  platforms: string[];
  /** Versions the pack flags as affected, and the versions that fix them. */
  affected: string[];
  fixed: string[];
}

export interface AdvisoryReference {
  url: string;
  summary: string;
}

/** A signed pack the advisory points to, by pack id and sequence. */
export interface LinkedPack {
  packId: string;
  sequence: number;
}

/** What staff write: every revision holds a full copy of it. Markdown fields are rendered inert (no raw HTML). */
export interface AdvisoryContent {
  title: string;
  severity: AdvisorySeverity;
  tlp: TlpLabel;
  status: AdvisoryStatus;
  /** Plain text, one paragraph: the feed summary and the CSAF summary note. */
  summary: string;
  /** Markdown. */
  body: string;
  products: AdvisoryProduct[];
  /** Remediation steps in order, Markdown each. */
  remediation: string[];
  packs: LinkedPack[];
  references: AdvisoryReference[];
  /** CVE ids once assigned (`CVE-2023-29059`). */
  cves: string[];
}

export interface RevisionAuthor {
  id: string;
  name: string;
}

/** One published revision: numbered 1, 2, ... in publication order. */
export interface PublishedRevision {
  number: number;
  /** ISO-8601 UTC. */
  at: string;
  author: RevisionAuthor;
  /** What changed, in one line (CSAF `revision_history[].summary`). */
  summary: string;
  content: AdvisoryContent;
}

/** A pack linked from an advisory, resolved against the packs stored at the hub (for enclosures and links). */
export interface PackLink extends LinkedPack {
  title: string;
  /** Path of the archive under the hub's public URL: `/feed/packs/<id>-<sequence>.tar.gz`. */
  archivePath: string;
  archiveSize: number;
  archiveSha256: string;
  /** Always `application/gzip`. */
  mediaType: string;
}

/**
 * A published advisory as pages, feeds and CSAF read it. `trackingId` and `initialReleaseDate` never change once
 * published; `revisions` are oldest first and the last one is current.
 */
export interface PublishedAdvisory {
  /** The store's id (uuid). */
  id: string;
  /** Permanent id, e.g. `CSW-2023-0001`; CSAF `tracking.id`. */
  trackingId: string;
  /** The lower-case URL form of `trackingId` (also the CSAF file name stem). */
  slug: string;
  initialReleaseDate: string;
  currentReleaseDate: string;
  revisions: PublishedRevision[];
  /** The packs the current revision links, resolved; a link to a pack the hub no longer holds is left out. */
  packs: PackLink[];
}

/** Who reads published advisories: anonymous callers see TLP:WHITE only; signed-in users and staff see every label. */
export type AdvisoryViewer = 'public' | 'signed-in';

/** What the published views (pages, feeds, CSAF, webhooks) read; the store implements it, tests may pass a list. */
export interface PublishedAdvisories {
  /** The published advisories `viewer` may read, newest `currentReleaseDate` first. */
  list(viewer: AdvisoryViewer): Promise<PublishedAdvisory[]>;
  /** One by its slug (case-insensitive), if published and readable by `viewer`. */
  get(slug: string, viewer: AdvisoryViewer): Promise<PublishedAdvisory | undefined>;
}

/** The current content of a published advisory. */
export function currentContent(advisory: PublishedAdvisory): AdvisoryContent {
  const last = advisory.revisions.at(-1);
  if (!last) throw new Error(`advisory ${advisory.trackingId} has no published revision`);
  return last.content;
}

/** The URL form of a tracking id: lower case, each run outside `[+\-a-z0-9]` one `_` (CSAF 2.0 section 5.1). */
export function slugOf(trackingId: string): string {
  return trackingId.toLowerCase().replace(/[^+\-a-z0-9]+/g, '_');
}
