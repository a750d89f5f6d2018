import { advisoryRoutes } from './advisories/advisory-routes.js';
import { publishedAdvisories } from './advisories/advisory-store.js';
import { csafRoutes } from './advisories/csaf/csaf-routes.js';
import { type CsafSigner, loadCsafSigner } from './advisories/csaf/csaf-signer.js';
import { advisoryFeedRoutes } from './advisories/feeds/feed-routes.js';
import { packAtomFeedRoutes } from './advisories/feeds/pack-feed-routes.js';
import { advisoryPageRoutes } from './advisories/pages/advisory-page-routes.js';
import { type ConsoleAsset, loadConsoleAssets } from './console/console-assets.js';
import { consoleRoutes } from './console/console-routes.js';
import { fleetRoutes } from './fleet/routes.js';
import type { ClientView } from './http/client-view.js';
import type { HubDeps, RouteModule } from './http/hub-env.js';
import { packRoutes } from './packs/pack-routes.js';
import { agentRoutes } from './routes/agent-routes.js';
import { enrolRoutes } from './routes/enrol-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { orgRoutes } from './routes/org-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { forumRoutes } from './support/forum/forum-routes.js';
import { incidentRoutes } from './support/incident-routes.js';
import { ticketNotifications } from './support/ticket-notifications.js';
import { ticketRoutes } from './support/tickets/ticket-routes.js';
import { advisoryWebhookEvents } from './webhooks/hub-events.js';
import { webhookRoutes } from './webhooks/webhook-routes.js';
import { processWebhookSettings } from './webhooks/webhook-settings.js';

/** What `serve` resolves before it builds the modules; tests may leave each out. */
export interface ModuleOptions {
  client?: ClientView;
  /** The CSAF signing key (`serve --csaf-key`, or the store's); without it the store's key is loaded on first use. */
  csafSigner?: CsafSigner;
  /** The built console; without it the build in dist/web, read once. */
  consoleAssets?: Map<string, ConsoleAsset>;
}

/** Every feature's routes, mounted by `serve` (one line per module). */
export function hubModules(deps: HubDeps, options: ModuleOptions = {}): RouteModule[] {
  const advisories = publishedAdvisories(deps.db, () => deps.config.publisher.name);
  let signer: Promise<CsafSigner> | undefined = options.csafSigner && Promise.resolve(options.csafSigner);
  const csafSigner = () => {
    signer ??= loadCsafSigner({ db: deps.db, userName: deps.config.publisher.name }).catch((error) => {
      signer = undefined;
      throw error;
    });
    return signer;
  };
  return [
    healthRoutes(deps),
    sessionRoutes(deps, options.client),
    enrolRoutes(deps),
    tokenRoutes(deps),
    agentRoutes(deps),
    userRoutes(deps),
    orgRoutes(deps),
    packRoutes(deps),
    fleetRoutes(deps),
    advisoryRoutes(deps, advisoryWebhookEvents(deps)),
    advisoryFeedRoutes(deps, advisories),
    advisoryPageRoutes(deps, advisories),
    csafRoutes(deps, advisories, csafSigner),
    incidentRoutes(deps),
    forumRoutes(deps),
    ticketRoutes(deps, ticketNotifications(deps)),
    webhookRoutes(deps, deps.config.webhooks ?? processWebhookSettings()),
    packAtomFeedRoutes(deps),
    consoleRoutes(options.consoleAssets ?? loadConsoleAssets()),
  ];
}
