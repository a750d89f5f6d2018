import type { Role } from '../tenancy.js';
import type { RouteModule } from './hub-env.js';

/** Who may call an operation: roles of users and API tokens, `agent` (a host credential), or `anonymous`. */
export type Caller = Role | 'agent' | 'anonymous';
/** Every user or API token role. */
export const ALL_ROLES: readonly Caller[] = ['vendor-staff', 'org-admin', 'org-member'];
/** Every caller, signed in or not: a public operation. */
export const EVERYONE: readonly Caller[] = ['anonymous', ...ALL_ROLES, 'agent'];

/**
 * The `security` and `x-roles` of an operation allowed to `callers`: a test builds the role x endpoint matrix
 * from `x-roles`, and `security` names the schemes (session cookie, API token, agent credential) that fit.
 */
export function access(callers: readonly Caller[]): {
  security: Record<string, string[]>[];
  'x-roles': Caller[];
} {
  const security: Record<string, string[]>[] = [];
  if (callers.includes('anonymous')) security.push({});
  if (callers.some((c) => c !== 'agent' && c !== 'anonymous'))
    security.push({ session: [] }, { apiToken: [] });
  if (callers.includes('agent')) security.push({ agentCredential: [] });
  return { security, 'x-roles': [...callers] };
}

/** The shared error response of every operation. */
export const ERROR_RESPONSE = {
  description: 'An error',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

/** A JSON request body with the given schema. */
export function jsonBody(schema: Record<string, unknown>): Record<string, unknown> {
  return { required: true, content: { 'application/json': { schema } } };
}

/** A JSON response with the given description and schema. */
export function jsonResponse(description: string, schema: Record<string, unknown> = { type: 'object' }) {
  return { description, content: { 'application/json': { schema } } };
}

/** The OpenAPI 3.1 document of every module's paths. */
export function openApiDocument(modules: readonly RouteModule[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const module of modules)
    for (const [path, item] of Object.entries(module.openapi)) paths[path] = { ...paths[path], ...item };
  return {
    openapi: '3.1.0',
    info: { title: 'chainsweep hub', version },
    paths,
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'csw_session',
          description: 'Console session; unsafe methods also need the X-CSRF-Token header',
        },
        apiToken: { type: 'http', scheme: 'bearer', description: 'An API token (csw_api_...)' },
        agentCredential: { type: 'http', scheme: 'bearer', description: 'A host credential (csw_agent_...)' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                field: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
}
