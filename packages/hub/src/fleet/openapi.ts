import { ALL_ROLES, access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../http/openapi.js';
import { HOST_STATES } from './states.js';

const REPORT_BODY = {
  ...jsonBody({
    type: 'object',
    description: 'One chainsweep report (schema v1), as `--format json` writes it',
  }),
  description: 'A report; `Content-Encoding: gzip` accepted',
};

const query = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const ERRORS = { '400': ERROR_RESPONSE, '401': ERROR_RESPONSE, '403': ERROR_RESPONSE };

/** The OpenAPI path items of the fleet routes. */
export function fleetOpenApi(): Record<string, Record<string, unknown>> {
  return {
    '/api/v1/reports': {
      post: {
        summary: 'Upload a scan, inventory or hunt report from an agent (idempotent on reportId)',
        ...access(['agent']),
        requestBody: REPORT_BODY,
        responses: {
          '202': jsonResponse('Accepted (or a resend: duplicate true)', {
            type: 'object',
            required: ['reportId', 'hostId', 'duplicate'],
            properties: {
              reportId: { type: 'string' },
              hostId: { type: 'string' },
              duplicate: { type: 'boolean' },
            },
          }),
          '400': ERROR_RESPONSE,
          '401': ERROR_RESPONSE,
          '409': ERROR_RESPONSE,
          '413': ERROR_RESPONSE,
          '415': ERROR_RESPONSE,
          '503': ERROR_RESPONSE,
        },
      },
    },
    '/api/v1/hunts': {
      post: {
        summary:
          'Upload a hunt report of a central DNS or proxy log; hits are attributed to hosts by address or name',
        ...access(['org-admin']),
        requestBody: REPORT_BODY,
        responses: {
          '201': jsonResponse('Stored; the hosts each hit was attributed to, and the clients no host claims'),
          '200': jsonResponse('A resend of a stored hunt (duplicate true)'),
          ...ERRORS,
          '413': ERROR_RESPONSE,
          '415': ERROR_RESPONSE,
          '503': ERROR_RESPONSE,
        },
      },
    },
    '/api/v1/fleet/summary': {
      get: {
        summary: 'Hosts by state, and the counts at the end of each of the last days',
        ...access(ALL_ROLES),
        parameters: [
          query('days', 'Days of trend (default 30)', { type: 'integer', minimum: 1, maximum: 366 }),
        ],
        responses: { '200': jsonResponse('The summary'), ...ERRORS },
      },
    },
    '/api/v1/hosts': {
      get: {
        summary: 'Hosts, filtered, in pages (hostname order) with an opaque cursor',
        ...access(ALL_ROLES),
        parameters: [
          query('state', 'One state', { type: 'string', enum: [...HOST_STATES] }),
          query('app', 'An installed app name (case-insensitive)'),
          query('version', 'With app: its exact version'),
          query('indicator', 'A current finding of this indicator id'),
          query('pack', 'A current finding from this pack id'),
          query('q', 'Part of the hostname, host id or an address'),
          query('limit', 'Page size (default 50)', { type: 'integer', minimum: 1, maximum: 500 }),
          query('cursor', 'nextCursor of the previous page'),
        ],
        responses: { '200': jsonResponse('A page of hosts and nextCursor'), ...ERRORS },
      },
    },
    '/api/v1/hosts/{id}': {
      get: {
        summary:
          'One host: state and evidence, inventory, verdicts, findings, hunt hits, reports, agents, history, remediation plan',
        ...access(ALL_ROLES),
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': jsonResponse('The host'), ...ERRORS, '404': ERROR_RESPONSE },
      },
    },
  };
}
