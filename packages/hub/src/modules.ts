import { advisoryRoutes } from './advisories/advisory-routes.js';
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

/** Every feature's routes, mounted by `serve` (one line per module). */
export function hubModules(deps: HubDeps, options: { client?: ClientView } = {}): RouteModule[] {
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
    advisoryRoutes(deps),
  ];
}
