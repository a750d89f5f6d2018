import { randomUUID } from 'node:crypto';
import { HttpError } from '../http/http-error.js';
import { isUniqueViolation } from '../store/constraint.js';
import type { Db } from '../store/db.js';
import {
  type AdvisoryContent,
  type AdvisoryViewer,
  type PackLink,
  type PublishedAdvisories,
  type PublishedAdvisory,
  type PublishedRevision,
  type RevisionAuthor,
  slugOf,
} from './model.js';

/** Held by every change of an advisory, so two hub processes never number two revisions alike. */
export const ADVISORIES_LOCK = 7_231_504;

/** One saved revision, as staff see it: drafts (saved before publication) have no `number`. */
export interface StoredRevision {
  seq: number;
  number: number | null;
  at: string;
  author: RevisionAuthor;
  summary: string;
  content: AdvisoryContent;
}

/** An advisory with every revision, drafts included: what vendor staff read and edit. */
export interface StoredAdvisory {
  id: string;
  trackingId: string;
  slug: string;
  state: 'draft' | 'published';
  createdAt: string;
  initialReleaseDate: string | null;
  currentReleaseDate: string | null;
  /** The seq an edit must name as its base (the newest revision). */
  lastSeq: number;
  revisions: StoredRevision[];
}

/** A published revision as it commits: what webhooks and other listeners hear, inside the same transaction. */
export interface RevisionPublished {
  kind: 'advisory.published' | 'advisory.revised';
  advisoryId: string;
  trackingId: string;
  slug: string;
  revision: StoredRevision;
}

/** Called inside the transaction that publishes a revision, so what it writes commits with the revision or not at all. */
export type OnPublished = (tx: Db, event: RevisionPublished) => Promise<void>;

/** A tracking id staff may choose: letters, digits and `+ - _ .`, starting with a letter or digit. */
const TRACKING_ID = /^[A-Za-z0-9][A-Za-z0-9+_.-]{2,63}$/;

type AdvisoryRow = {
  id: string;
  tracking_id: string;
  slug: string;
  state: 'draft' | 'published';
  tlp: string;
  created_at: string;
  created_by: string;
  initial_release_date: string | null;
  current_release_date: string | null;
  last_seq: number;
  published_number: number;
};
type RevisionRow = {
  advisory_id: string;
  seq: number;
  number: number | null;
  at: string;
  author_id: string;
  author_name: string;
  summary: string;
  content: string;
};

/** The tracking id of a draft no one chose one for: the next `CSW-<year>-<nnnn>` replaces it at publication. */
const DRAFT_ID_PREFIX = 'DRAFT-';

/** Checks a tracking id staff chose: 400 naming `trackingId` when it is malformed or looks like a draft's. */
export function trackingIdField(value: unknown): string {
  if (typeof value === 'string' && value.toUpperCase().startsWith(DRAFT_ID_PREFIX))
    throw new HttpError(400, 'INVALID', `trackingId must not start with ${DRAFT_ID_PREFIX}`, {
      field: 'trackingId',
    });
  if (typeof value !== 'string' || !TRACKING_ID.test(value))
    throw new HttpError(
      400,
      'INVALID',
      'trackingId must be 3 to 64 letters, digits or + - _ . starting with a letter or digit',
      { field: 'trackingId' },
    );
  return value;
}

/**
 * Creates a draft advisory with its first (draft) revision. Without a tracking id it is `DRAFT-...` until it is
 * published, when it takes the next `CSW-<year>-<nnnn>` (so abandoned drafts leave no gaps); a tracking id (or its
 * slug) already used is 409.
 */
export async function createAdvisory(
  db: Db,
  input: { trackingId?: string; content: AdvisoryContent },
  author: RevisionAuthor,
  now: Date,
): Promise<StoredAdvisory> {
  const id = randomUUID();
  const at = now.toISOString();
  try {
    await db.transaction(
      async (tx) => {
        const trackingId = input.trackingId ?? `${DRAFT_ID_PREFIX}${id.slice(0, 8)}${id.slice(9, 13)}`;
        await tx.run(
          `INSERT INTO advisories (id, tracking_id, slug, state, tlp, created_at, created_by, last_seq)
           VALUES (?, ?, ?, 'draft', ?, ?, ?, 1)`,
          [id, trackingId, slugOf(trackingId), input.content.tlp, at, author.id],
        );
        await insertRevision(tx, id, {
          seq: 1,
          number: null,
          at,
          author,
          summary: 'Draft.',
          content: input.content,
        });
      },
      { lock: ADVISORIES_LOCK },
    );
  } catch (error) {
    if (isUniqueViolation(error))
      throw new HttpError(409, 'TRACKING_ID_TAKEN', `tracking id ${input.trackingId} is already used`, {
        field: 'trackingId',
      });
    throw error;
  }
  return (await getAdvisory(db, id)) as StoredAdvisory;
}

/**
 * Saves a new revision of `id` edited from revision `baseSeq` (409 when someone saved in between). A draft gets
 * another draft revision; a published advisory gets the next published number, and its current release date moves.
 */
export async function reviseAdvisory(
  db: Db,
  id: string,
  change: { baseSeq: number; summary: string; content: AdvisoryContent },
  author: RevisionAuthor,
  now: Date,
  onPublished: OnPublished = async () => {},
): Promise<{ advisory: StoredAdvisory; revision: StoredRevision }> {
  const revision = await db.transaction(
    async (tx) => {
      const row = await lockedRow(tx, id, change.baseSeq);
      const at = laterThan(row.current_release_date, now);
      const published = row.state === 'published';
      const revision: StoredRevision = {
        seq: row.last_seq + 1,
        number: published ? row.published_number + 1 : null,
        at,
        author,
        summary: change.summary,
        content: change.content,
      };
      await insertRevision(tx, id, revision);
      await tx.run(
        `UPDATE advisories SET last_seq = ?, tlp = ?, published_number = ?, current_release_date = ? WHERE id = ?`,
        [
          revision.seq,
          change.content.tlp,
          revision.number ?? row.published_number,
          published ? at : row.current_release_date,
          id,
        ],
      );
      if (published) await onPublished(tx, eventOf('advisory.revised', row, revision));
      return revision;
    },
    { lock: ADVISORIES_LOCK },
  );
  return { advisory: (await getAdvisory(db, id)) as StoredAdvisory, revision };
}

/**
 * Publishes a draft: revision 1 is the newest draft's content, released now; `initial_release_date` (and the
 * tracking id, if none was chosen) is set here, once. Publishing an advisory already published is 409.
 */
export async function publishAdvisory(
  db: Db,
  id: string,
  change: { baseSeq: number; summary: string },
  author: RevisionAuthor,
  now: Date,
  onPublished: OnPublished = async () => {},
): Promise<{ advisory: StoredAdvisory; revision: StoredRevision }> {
  const revision = await db.transaction(
    async (tx) => {
      const row = await lockedRow(tx, id, change.baseSeq);
      if (row.state === 'published')
        throw new HttpError(409, 'ALREADY_PUBLISHED', `advisory ${row.tracking_id} is already published`);
      const draft = await tx.get<RevisionRow>(
        'SELECT * FROM advisory_revisions WHERE advisory_id = ? AND seq = ?',
        [id, row.last_seq],
      );
      if (!draft) throw new Error(`advisory ${id} has no revision ${row.last_seq}`);
      const at = now.toISOString();
      if (row.tracking_id.startsWith(DRAFT_ID_PREFIX)) {
        row.tracking_id = await nextTrackingId(tx, now);
        row.slug = slugOf(row.tracking_id);
        await tx.run('UPDATE advisories SET tracking_id = ?, slug = ? WHERE id = ?', [
          row.tracking_id,
          row.slug,
          id,
        ]);
      }
      const revision: StoredRevision = {
        seq: row.last_seq + 1,
        number: 1,
        at,
        author,
        summary: change.summary,
        content: JSON.parse(draft.content) as AdvisoryContent,
      };
      await insertRevision(tx, id, revision);
      await tx.run(
        `UPDATE advisories SET state = 'published', last_seq = ?, published_number = 1,
         initial_release_date = ?, current_release_date = ? WHERE id = ?`,
        [revision.seq, at, at, id],
      );
      await onPublished(tx, eventOf('advisory.published', row, revision));
      return revision;
    },
    { lock: ADVISORIES_LOCK },
  );
  return { advisory: (await getAdvisory(db, id)) as StoredAdvisory, revision };
}

/** One advisory with every revision (drafts included), or undefined. */
export async function getAdvisory(db: Db, id: string): Promise<StoredAdvisory | undefined> {
  const row = await db.get<AdvisoryRow>('SELECT * FROM advisories WHERE id = ?', [id]);
  if (!row) return undefined;
  const revisions = await db.all<RevisionRow>(
    'SELECT * FROM advisory_revisions WHERE advisory_id = ? ORDER BY seq',
    [id],
  );
  return storedOf(row, revisions);
}

/** Every advisory as staff list them (newest change first), without revisions' content. */
export async function listAdvisories(
  db: Db,
): Promise<(Omit<StoredAdvisory, 'revisions'> & { title: string; tlp: string })[]> {
  const rows = await db.all<AdvisoryRow & { title: string }>(
    `SELECT a.*, r.content AS title FROM advisories a
     JOIN advisory_revisions r ON r.advisory_id = a.id AND r.seq = a.last_seq
     ORDER BY COALESCE(a.current_release_date, a.created_at) DESC, a.id LIMIT 1000`,
  );
  return rows.map((row) => {
    const { revisions: _, ...advisory } = storedOf(row, []);
    return { ...advisory, title: (JSON.parse(row.title) as AdvisoryContent).title, tlp: row.tlp };
  });
}

/** The advisory an id (uuid) or tracking id names, if any. */
export async function advisoryIdOf(db: Db, idOrTrackingId: string): Promise<string | undefined> {
  const row = await db.get<{ id: string }>('SELECT id FROM advisories WHERE id = ? OR slug = ?', [
    idOrTrackingId,
    slugOf(idOrTrackingId),
  ]);
  return row?.id;
}

/**
 * The published advisories as the public views read them: published revisions only (drafts never), TLP:WHITE
 * only for the public, and each current revision's packs resolved against the packs stored at the hub. Revisions
 * are signed by `publisher()` (the publisher's name), never by the staff account's email, which only staff see.
 */
export function publishedAdvisories(db: Db, publisher: () => string): PublishedAdvisories {
  const load = async (viewer: AdvisoryViewer, slug?: string): Promise<PublishedAdvisory[]> => {
    const where = [`state = 'published'`];
    const params: string[] = [];
    if (viewer === 'public') where.push(`tlp = 'WHITE'`);
    if (slug !== undefined) {
      where.push('slug = ?');
      params.push(slug.toLowerCase());
    }
    const rows = await db.all<AdvisoryRow>(
      `SELECT * FROM advisories WHERE ${where.join(' AND ')} ORDER BY current_release_date DESC, id LIMIT 1000`,
      params,
    );
    if (rows.length === 0) return [];
    const revisions = await db.all<RevisionRow>(
      `SELECT * FROM advisory_revisions WHERE number IS NOT NULL AND advisory_id IN (${rows.map(() => '?').join(', ')})
       ORDER BY advisory_id, number`,
      rows.map((r) => r.id),
    );
    const byAdvisory = new Map<string, PublishedRevision[]>();
    for (const r of revisions) {
      const list = byAdvisory.get(r.advisory_id) ?? [];
      list.push({ ...revisionOf(r), number: Number(r.number), author: { id: '', name: publisher() } });
      byAdvisory.set(r.advisory_id, list);
    }
    const packs = await storedPacks(db);
    return rows.map((row) => {
      const published = byAdvisory.get(row.id) ?? [];
      const current = published.at(-1)?.content;
      return {
        id: row.id,
        trackingId: row.tracking_id,
        slug: row.slug,
        initialReleaseDate: row.initial_release_date as string,
        currentReleaseDate: row.current_release_date as string,
        revisions: published,
        packs: (current?.packs ?? []).flatMap((p) => packs.get(`${p.packId}#${p.sequence}`) ?? []),
      };
    });
  };
  return {
    list: (viewer) => load(viewer),
    get: async (slug, viewer) => (await load(viewer, slug))[0],
  };
}

async function storedPacks(db: Db): Promise<Map<string, PackLink>> {
  const rows = await db.all<{
    pack_id: string;
    sequence: number;
    title: string;
    archive_size: number;
    archive_sha256: string;
  }>('SELECT pack_id, sequence, title, archive_size, archive_sha256 FROM hub_packs');
  return new Map(
    rows.map((r) => [
      `${r.pack_id}#${Number(r.sequence)}`,
      {
        packId: r.pack_id,
        sequence: Number(r.sequence),
        title: r.title,
        archivePath: `/feed/packs/${r.pack_id}-${Number(r.sequence)}.tar.gz`,
        archiveSize: Number(r.archive_size),
        archiveSha256: r.archive_sha256,
        mediaType: 'application/gzip',
      },
    ]),
  );
}

/** The next free `CSW-<year>-<nnnn>`; the caller holds ADVISORIES_LOCK. */
async function nextTrackingId(tx: Db, now: Date): Promise<string> {
  const prefix = `CSW-${now.getUTCFullYear()}-`;
  const row = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM advisories WHERE tracking_id LIKE ?', [
    `${prefix}%`,
  ]);
  for (let n = Number(row?.n ?? 0) + 1; ; n++) {
    const candidate = `${prefix}${String(n).padStart(4, '0')}`;
    const taken = await tx.get('SELECT 1 AS taken FROM advisories WHERE slug = ?', [slugOf(candidate)]);
    if (!taken) return candidate;
  }
}

/** The advisory's row, checking that `baseSeq` is its newest revision (409 otherwise; 404 if there is none). */
async function lockedRow(tx: Db, id: string, baseSeq: number): Promise<AdvisoryRow> {
  const row = await tx.get<AdvisoryRow>('SELECT * FROM advisories WHERE id = ?', [id]);
  if (!row) throw new HttpError(404, 'NOT_FOUND', 'no such advisory');
  if (Number(row.last_seq) !== baseSeq)
    throw new HttpError(
      409,
      'REVISION_CONFLICT',
      `revision ${row.last_seq} was saved after revision ${baseSeq}; reload and edit that one`,
      { field: 'baseSeq' },
    );
  return { ...row, last_seq: Number(row.last_seq), published_number: Number(row.published_number) };
}

/** `now`, or a millisecond after the previous release when the clock has not moved past it (dates stay ordered). */
function laterThan(previous: string | null, now: Date): string {
  if (previous && Date.parse(previous) >= now.getTime())
    return new Date(Date.parse(previous) + 1).toISOString();
  return now.toISOString();
}

function eventOf(
  kind: RevisionPublished['kind'],
  row: AdvisoryRow,
  revision: StoredRevision,
): RevisionPublished {
  return { kind, advisoryId: row.id, trackingId: row.tracking_id, slug: row.slug, revision };
}

async function insertRevision(tx: Db, advisoryId: string, revision: StoredRevision): Promise<void> {
  await tx.run(
    `INSERT INTO advisory_revisions (advisory_id, seq, number, at, author_id, author_name, summary, content)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      advisoryId,
      revision.seq,
      revision.number,
      revision.at,
      revision.author.id,
      revision.author.name,
      revision.summary,
      JSON.stringify(revision.content),
    ],
  );
}

function revisionOf(row: RevisionRow): StoredRevision {
  return {
    seq: Number(row.seq),
    number: row.number === null ? null : Number(row.number),
    at: row.at,
    author: { id: row.author_id, name: row.author_name },
    summary: row.summary,
    content: JSON.parse(row.content) as AdvisoryContent,
  };
}

function storedOf(row: AdvisoryRow, revisions: RevisionRow[]): StoredAdvisory {
  return {
    id: row.id,
    trackingId: row.tracking_id,
    slug: row.slug,
    state: row.state,
    createdAt: row.created_at,
    initialReleaseDate: row.initial_release_date,
    currentReleaseDate: row.current_release_date,
    lastSeq: Number(row.last_seq),
    revisions: revisions.map(revisionOf),
  };
}
