import { randomUUID } from 'node:crypto';
import { choiceField, lineField, optionalIntField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import { isUniqueViolation } from '../store/constraint.js';
import type { Db } from '../store/db.js';

/** The 3CX offer: three free support tickets per customer organisation. */
export const DEFAULT_FREE_TICKETS = 3;
/** What a ticket beyond the free ones is: refused (with a link to the forum), or accepted as paid. */
export const WHEN_USED_UP = ['refuse', 'paid'] as const;
export type WhenUsedUp = (typeof WHEN_USED_UP)[number];

/** An incident: its forum and its free-ticket offer per organisation. */
export interface Incident {
  id: string;
  /** URL form: lower-case letters, digits and dashes (`3cx-2023`). */
  slug: string;
  title: string;
  /** The advisory about it, if any (a tracking id). */
  advisoryTrackingId: string | null;
  freeTickets: number;
  whenUsedUp: WhenUsedUp;
  createdAt: string;
  updatedAt: string;
}

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

type IncidentRow = {
  id: string;
  slug: string;
  title: string;
  advisory_tracking_id: string | null;
  free_tickets: number;
  when_used_up: WhenUsedUp;
  created_at: string;
  updated_at: string;
};

/** What staff send to create or change an incident; 400 naming the field for anything wrong. */
export function incidentInput(
  body: Record<string, unknown>,
  partial: boolean,
): Partial<Pick<Incident, 'slug' | 'title' | 'advisoryTrackingId' | 'freeTickets' | 'whenUsedUp'>> {
  const has = (key: string) => body[key] !== undefined;
  const input: ReturnType<typeof incidentInput> = {};
  if (!partial || has('slug')) {
    if (typeof body.slug !== 'string' || !SLUG.test(body.slug))
      throw new HttpError(400, 'INVALID', 'slug must be 2 to 63 lower-case letters, digits or dashes', {
        field: 'slug',
      });
    input.slug = body.slug;
  }
  if (!partial || has('title')) input.title = lineField(body.title, 'title', 200);
  if (has('advisoryTrackingId'))
    input.advisoryTrackingId =
      body.advisoryTrackingId === null ? null : lineField(body.advisoryTrackingId, 'advisoryTrackingId', 64);
  const free = optionalIntField(body.freeTickets, 'freeTickets', 0, 10_000);
  if (free !== undefined) input.freeTickets = free;
  if (has('whenUsedUp')) input.whenUsedUp = choiceField(body.whenUsedUp, 'whenUsedUp', WHEN_USED_UP);
  return input;
}

/** Creates an incident (default offer: DEFAULT_FREE_TICKETS, refuse when used up); a slug already used is 409. */
export async function createIncident(
  db: Db,
  input: ReturnType<typeof incidentInput>,
  by: string,
  now: Date,
): Promise<Incident> {
  const at = now.toISOString();
  const row: IncidentRow = {
    id: randomUUID(),
    slug: input.slug ?? '',
    title: input.title ?? '',
    advisory_tracking_id: input.advisoryTrackingId ?? null,
    free_tickets: input.freeTickets ?? DEFAULT_FREE_TICKETS,
    when_used_up: input.whenUsedUp ?? 'refuse',
    created_at: at,
    updated_at: at,
  };
  try {
    await db.run(
      `INSERT INTO incidents (id, slug, title, advisory_tracking_id, free_tickets, when_used_up, created_at, created_by, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.slug, row.title, row.advisory_tracking_id, row.free_tickets, row.when_used_up, at, by, at],
    );
  } catch (error) {
    if (isUniqueViolation(error))
      throw new HttpError(409, 'SLUG_TAKEN', `an incident ${row.slug} exists already`, { field: 'slug' });
    throw error;
  }
  return incidentOf(row);
}

/** Changes an incident's title, advisory or offer (a new quota applies to tickets opened from then on); 404 if none. */
export async function updateIncident(
  db: Db,
  id: string,
  input: ReturnType<typeof incidentInput>,
  now: Date,
): Promise<Incident> {
  const current = await getIncident(db, id);
  if (!current) throw new HttpError(404, 'NOT_FOUND', 'no such incident');
  const next = { ...current, ...input, updatedAt: now.toISOString() };
  await db.run(
    `UPDATE incidents SET title = ?, advisory_tracking_id = ?, free_tickets = ?, when_used_up = ?, updated_at = ?
     WHERE id = ?`,
    [next.title, next.advisoryTrackingId, next.freeTickets, next.whenUsedUp, next.updatedAt, id],
  );
  return next;
}

/** One incident by id or slug, or undefined. */
export async function getIncident(db: Db, idOrSlug: string): Promise<Incident | undefined> {
  const row = await db.get<IncidentRow>('SELECT * FROM incidents WHERE id = ? OR slug = ?', [
    idOrSlug,
    idOrSlug,
  ]);
  return row ? incidentOf(row) : undefined;
}

/** Every incident, newest first (there are few). */
export async function listIncidents(db: Db): Promise<Incident[]> {
  const rows = await db.all<IncidentRow>('SELECT * FROM incidents ORDER BY created_at DESC, id LIMIT 1000');
  return rows.map(incidentOf);
}

function incidentOf(row: IncidentRow): Incident {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    advisoryTrackingId: row.advisory_tracking_id,
    freeTickets: Number(row.free_tickets),
    whenUsedUp: row.when_used_up,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
