import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** Characters of a reply token: 120 random bits. */
const TOKEN_CHARS = 24;

/** Who a reply token was handed to: the ticket and the user whose address it is. */
export interface ReplyTarget {
  ticketId: string;
  userId: string;
}

/** `local+TOKEN@domain` for `local@domain`. */
export function replyAddress(base: string, token: string): string {
  const at = base.lastIndexOf('@');
  return `${base.slice(0, at)}+${token}${base.slice(at)}`;
}

/** The reply address of one user on one ticket: one random token per pair, made on first use and kept. */
export async function replyAddressFor(tx: Db, base: string, target: ReplyTarget, now: Date): Promise<string> {
  await tx.run(
    `INSERT INTO mail_reply_addresses (token, ticket_id, user_id, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (ticket_id, user_id) DO NOTHING`,
    [newToken(), target.ticketId, target.userId, now.toISOString()],
  );
  const row = await tx.get<{ token: string }>(
    'SELECT token FROM mail_reply_addresses WHERE ticket_id = ? AND user_id = ?',
    [target.ticketId, target.userId],
  );
  if (!row) throw new Error('reply address not stored');
  return replyAddress(base, row.token);
}

/** The token of the first of `addresses` that is a reply address of `base` (case-insensitive), if any. */
export function replyTokenIn(base: string, addresses: readonly string[]): string | undefined {
  const at = base.lastIndexOf('@');
  const local = base.slice(0, at).toLowerCase();
  const domain = base.slice(at + 1).toLowerCase();
  for (const address of addresses) {
    const lower = address.trim().toLowerCase();
    const split = lower.lastIndexOf('@');
    if (split < 0 || lower.slice(split + 1) !== domain) continue;
    const localPart = lower.slice(0, split);
    if (!localPart.startsWith(`${local}+`)) continue;
    const token = localPart.slice(local.length + 1);
    if (token.length === TOKEN_CHARS && [...token].every((c) => BASE32.includes(c))) return token;
  }
  return undefined;
}

/** The ticket and user a token was handed to, if it was. */
export async function replyTarget(db: Db, token: string): Promise<ReplyTarget | undefined> {
  const row = await db.get<{ ticket_id: string; user_id: string }>(
    'SELECT ticket_id, user_id FROM mail_reply_addresses WHERE token = ?',
    [token],
  );
  return row && { ticketId: row.ticket_id, userId: row.user_id };
}

function newToken(): string {
  const bytes = randomBytes(TOKEN_CHARS);
  return [...bytes].map((b) => BASE32[b & 31]).join('');
}
