import type { HubDeps, RouteModule } from './http/hub-env.js';
import { enrolRoutes } from './routes/enrol-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { orgRoutes } from './routes/org-routes.js';
import { type ClientAddress, sessionRoutes } from './routes/session-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { userRoutes } from './routes/user-routes.js';

/** Every feature's routes, mounted by `serve` (one line per module). */
export function hubModules(deps: HubDeps, options: { clientAddress?: ClientAddress } = {}): RouteModule[] {
  return [
    healthRoutes(deps),
    sessionRoutes(deps, options.clientAddress),
    enrolRoutes(deps),
    tokenRoutes(deps),
    userRoutes(deps),
    orgRoutes(deps),
  ];
}
