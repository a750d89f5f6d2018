import type { Hono } from 'hono';
import { createApp } from '../app.js';
import { createOrg } from '../auth/orgs.js';
import { createToken } from '../auth/tokens.js';
import { createUser } from '../auth/users.js';
import { defaultHubConfig } from '../config.js';
import { type ClientView, directClient } from '../http/client-view.js';
import type { HubConfig, HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { hubModules } from '../modules.js';
import type { Db } from '../store/db.js';
import type { Role } from '../tenancy.js';

/** A test app over a store, with every log entry kept in `logs`. */
export interface TestApp {
  app: Hono<HubEnv>;
  deps: HubDeps;
  logs: Record<string, unknown>[];
}

/** The hub's app over `db` with its modules (plus `extra`), logging into memory. */
export function testApp(
  db: Db,
  options: {
    config?: Partial<HubConfig>;
    extra?: RouteModule[];
    now?: () => Date;
    clientAddress?: string;
    client?: ClientView;
  } = {},
): TestApp {
  const deps: HubDeps = {
    db,
    config: { ...defaultHubConfig('/nonexistent'), ...options.config },
    now: options.now ?? (() => new Date()),
  };
  const logs: Record<string, unknown>[] = [];
  const address = options.clientAddress;
  const client = options.client ?? (address ? { ...directClient, address: () => address } : undefined);
  const modules = hubModules(deps, client ? { client } : {});
  // Extra modules come first, so one given its own source stands in for the hub's module on the same paths.
  const app = createApp(deps, [...(options.extra ?? []), ...modules], { log: (entry) => logs.push(entry) });
  return { app, deps, logs };
}

/** The password every seeded user has. */
export const TEST_PASSWORD = 'test password 123';

/** An organisation with an org-admin and an org-member user, and an API token per role. */
export interface SeededOrg {
  orgId: string;
  emails: Record<Role, string>;
  apiTokens: Record<Role, string>;
}

/** Seeds an organisation named `name`; its users are `<role>@<name>.test`. */
export async function seedOrg(db: Db, name: string): Promise<SeededOrg> {
  const now = new Date();
  const org = await createOrg(db, { name }, now);
  const roles: Role[] = ['vendor-staff', 'org-admin', 'org-member'];
  const emails = {} as Record<Role, string>;
  const apiTokens = {} as Record<Role, string>;
  for (const role of roles) {
    emails[role] = `${role}@${name.toLowerCase()}.test`;
    await createUser(
      db,
      { kind: 'all' },
      { orgId: org.id, email: emails[role], password: TEST_PASSWORD, role },
      now,
    );
    apiTokens[role] = (
      await createToken(db, { kind: 'all' }, { orgId: org.id, kind: 'api', role }, now)
    ).token;
  }
  return { orgId: org.id, emails, apiTokens };
}

/** A test's loosely read JSON. */
// biome-ignore lint/suspicious/noExplicitAny: test JSON is read by field
export type Json = Record<string, any>;

/** A JSON request with a bearer token, answered with its status and parsed body. */
export type JsonCall = (
  method: string,
  path: string,
  token: string,
  body?: unknown,
) => Promise<{ status: number; json: Json }>;

/** JSON calls over `send`: the real server's `fetch` or an app's `request`. */
export function jsonCaller(
  send: (path: string, init: RequestInit) => Response | Promise<Response>,
): JsonCall {
  return async (method, path, token, body) => {
    const res = await send(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
}
