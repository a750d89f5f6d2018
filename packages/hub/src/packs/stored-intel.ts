import type { IntelSet } from 'chainsweep/core/intel.js';
import { readPackContent } from 'chainsweep/packs/pack-content.js';
import { verifyPackArchive } from 'chainsweep/packs/verify-pack.js';
import type { Db } from '../store/db.js';
import { packWithArchive } from './hub-pack-store.js';
import type { PackSettings } from './pack-settings.js';

/**
 * The indicators, apps and rules of a pack version stored at the hub, or undefined if it is not stored. The
 * archive is verified again, as at its upload (a key that has expired since does not make it unreadable).
 */
export async function storedPackIntel(
  db: Db,
  settings: PackSettings,
  id: string,
  sequence: number,
): Promise<IntelSet | undefined> {
  const stored = await packWithArchive(db, id, sequence);
  if (!stored) return undefined;
  const pack = await verifyPackArchive(stored.archive, {
    keyring: settings.keyring,
    now: new Date(stored.pack.uploadedAt),
    source: `pack ${id} #${sequence}`,
  });
  return readPackContent(pack);
}
