import type { Db } from '../store/db.js';
import type { Principal } from '../tenancy.js';
import type { RevisionAuthor } from './model.js';

/** Who a revision is by: a user by email, an API token by its name. */
export async function authorOf(
  db: Db,
  principal: Exclude<Principal, { kind: 'agent' }>,
): Promise<RevisionAuthor> {
  if (principal.kind === 'user') {
    const user = await db.get<{ email: string }>('SELECT email FROM users WHERE id = ?', [principal.userId]);
    return { id: principal.userId, name: user?.email ?? principal.userId };
  }
  const token = await db.get<{ name: string }>('SELECT name FROM api_tokens WHERE id = ?', [
    principal.tokenId,
  ]);
  return { id: principal.tokenId, name: `API token ${token?.name || principal.tokenId}` };
}
