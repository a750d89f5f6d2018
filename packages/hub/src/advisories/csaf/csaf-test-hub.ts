import { defaultHubConfig } from '../../config.js';
import type { HubDeps } from '../../http/hub-env.js';
import type { Db } from '../../store/db.js';
import { type TestApp, testApp } from '../../testing/test-hub.js';
import type { PublishedAdvisory } from '../model.js';
import { listedAdvisories } from '../test-advisories.js';
import { csafRoutes } from './csaf-routes.js';
import { type CsafSigner, loadCsafSigner } from './csaf-signer.js';

/** A test hub serving `advisories` as a CSAF provider; `deps.config` is what the CSAF routes read. */
export interface CsafTestHub extends TestApp {
  signer: CsafSigner;
}

/** The hub's app over `db` with the CSAF routes of `advisories`, signing with the key kept in the store. */
export async function csafTestHub(db: Db, advisories: readonly PublishedAdvisory[]): Promise<CsafTestHub> {
  const deps: HubDeps = {
    db,
    config: {
      ...defaultHubConfig('/nonexistent'),
      publicUrl: 'https://hub.example',
      publisher: { name: 'Vendor PSIRT', namespace: 'https://vendor.example' },
    },
    now: () => new Date(),
  };
  const signer = await loadCsafSigner({ db, userName: deps.config.publisher.name });
  const hub = testApp(db, { extra: [csafRoutes(deps, listedAdvisories(advisories), async () => signer)] });
  return { ...hub, deps, signer };
}
