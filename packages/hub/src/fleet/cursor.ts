import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http/http-error.js';
import type { Db } from '../store/db.js';

const keys = new WeakMap<Db, Promise<Buffer>>();

/** The hub's key for paging cursors, made once per database (shared by every hub process on it). */
function cursorKey(db: Db): Promise<Buffer> {
  let key = keys.get(db);
  if (!key) {
    key = (async () => {
      await db.run(
        "INSERT INTO fleet_secrets (name, value) VALUES ('cursor-key', ?) ON CONFLICT (name) DO NOTHING",
        [randomBytes(32).toString('base64')],
      );
      const row = await db.get<{ value: string }>(
        "SELECT value FROM fleet_secrets WHERE name = 'cursor-key'",
      );
      return Buffer.from(row?.value ?? '', 'base64');
    })();
    key.catch(() => keys.delete(db));
    keys.set(db, key);
  }
  return key;
}

/**
 * An opaque paging cursor: the position, bound to the caller's scope and the query's filters, and signed, so a
 * cursor edited, or used by another organisation or with other filters, is refused (400) and reveals nothing.
 */
export async function encodeCursor(db: Db, position: unknown[], binding: string): Promise<string> {
  const payload = Buffer.from(JSON.stringify(position)).toString('base64url');
  return `${payload}.${sign(await cursorKey(db), payload, binding)}`;
}

/** The position a cursor holds, checked against its signature, scope and filters. */
export async function decodeCursor(db: Db, cursor: string, binding: string): Promise<unknown[]> {
  const invalid = () =>
    new HttpError(400, 'INVALID_CURSOR', 'the cursor is not one this query gave', { field: 'cursor' });
  const [payload, mac, extra] = cursor.split('.');
  if (!payload || !mac || extra !== undefined || cursor.length > 2000) throw invalid();
  const expected = Buffer.from(sign(await cursorKey(db), payload, binding));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
  const position = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  if (!Array.isArray(position)) throw invalid();
  return position;
}

function sign(key: Buffer, payload: string, binding: string): string {
  return createHmac('sha256', key).update(`${binding}\0${payload}`).digest('base64url');
}
