import type { AffectedApp } from 'chainsweep/core/indicator.js';
import { HttpError } from '../http/http-error.js';
import type { Db } from '../store/db.js';
import { resolveProducts } from './advisory-input.js';
import {
  advisoryIdOf,
  getAdvisory,
  type OnPublished,
  reviseAdvisory,
  type StoredRevision,
} from './advisory-store.js';
import type { AdvisoryContent, RevisionAuthor } from './model.js';

/** The advisory a pack upload names (`?advisory=TRACKING-ID`): 400 naming `advisory` when there is none. */
export async function advisoryToLink(db: Db, trackingId: string): Promise<string> {
  const id = await advisoryIdOf(db, trackingId);
  if (!id) throw new HttpError(400, 'INVALID', `advisory: no advisory ${trackingId}`, { field: 'advisory' });
  return id;
}

/**
 * Links a newly stored pack version to its advisory with a new revision: the pack replaces older sequences of
 * the same pack id among the links, and the products copied from that pack are copied again from its apps, so the
 * advisory names the versions the new pack flags. A published advisory publishes this as its next revision.
 */
export async function linkPackToAdvisory(
  db: Db,
  advisoryId: string,
  pack: { id: string; sequence: number; apps: readonly AffectedApp[] },
  author: RevisionAuthor,
  now: Date,
  onPublished?: OnPublished,
): Promise<StoredRevision> {
  for (let attempt = 0; ; attempt++) {
    const advisory = await getAdvisory(db, advisoryId);
    const current = advisory?.revisions.at(-1);
    if (!advisory || !current) throw new Error(`advisory ${advisoryId} is gone`);
    const content: AdvisoryContent = {
      ...current.content,
      packs: [
        ...current.content.packs.filter((p) => p.packId !== pack.id),
        { packId: pack.id, sequence: pack.sequence },
      ],
      products: await Promise.all(
        current.content.products.map(async (product) => {
          if (product.packId !== pack.id || !pack.apps.some((a) => a.id === product.appId)) return product;
          const [fresh] = await resolveProducts([product], async () => pack.apps);
          return fresh ?? product;
        }),
      ),
    };
    try {
      const { revision } = await reviseAdvisory(
        db,
        advisoryId,
        { baseSeq: advisory.lastSeq, summary: `Pack ${pack.id} #${pack.sequence} published.`, content },
        author,
        now,
        onPublished,
      );
      return revision;
    } catch (error) {
      // Someone saved in between: link to their revision instead.
      if (!(error instanceof HttpError && error.code === 'REVISION_CONFLICT') || attempt >= 4) throw error;
    }
  }
}
