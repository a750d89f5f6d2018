import { parseArgs } from 'node:util';
import type { CliIo } from 'chainsweep/cli/io.js';
import { UserError } from 'chainsweep/core/errors.js';
import { listAgents, revokeAgent } from './auth/agents.js';
import { createOrg, findOrgByName, listOrgs } from './auth/orgs.js';
import { createToken, listTokens, revokeToken } from './auth/tokens.js';
import { createUser } from './auth/users.js';
import { parseDbUrl, parseDuration } from './cli-args.js';
import type { Db } from './store/db.js';
import { openStore } from './store/open-store.js';
import type { Scope } from './tenancy.js';

/** The operator of the machine holding the store acts on every organisation. */
const OPERATOR: Scope = { kind: 'all' };
const MAX_PASSWORD_INPUT = 4096;

const USAGE = `usage: chainsweep hub --data DIR [--db URL] COMMAND
  org add NAME [--stale-days N]
  org list
  user add EMAIL --org NAME --role vendor-staff|org-admin|org-member   (password on stdin)
  token add --org NAME --kind enrol|api [--role ROLE] [--expires DURATION] [--max-uses N] [--name TEXT]
  token list --org NAME
  token revoke ID
  agent list --org NAME
  agent revoke ID`;

/** `chainsweep hub ...`: administers a hub's store (first setup, automation). */
export async function runAdmin(
  args: string[],
  io: CliIo & { stdin?: NodeJS.ReadableStream },
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      db: { type: 'string' },
      org: { type: 'string' },
      role: { type: 'string' },
      kind: { type: 'string' },
      expires: { type: 'string' },
      'max-uses': { type: 'string' },
      'stale-days': { type: 'string' },
      name: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  const [noun, verb, ...rest] = positionals;
  if (!noun) {
    io.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (!values.data) throw new UserError('USAGE', '--data DIR is required');
  const postgresUrl = parseDbUrl(values.db);
  const command = `${noun} ${verb ?? ''}`.trim();
  const arg = (what: string) => {
    if (rest.length !== 1 || !rest[0]) throw new UserError('USAGE', `${command}: expected ${what}`);
    return rest[0];
  };
  const noArgs = () => {
    if (rest.length) throw new UserError('USAGE', `${command}: unexpected ${JSON.stringify(rest[0])}`);
  };
  const known = [
    'org add',
    'org list',
    'user add',
    'token add',
    'token list',
    'token revoke',
    'agent list',
    'agent revoke',
  ];
  if (!known.includes(command))
    throw new UserError('USAGE', `unknown command ${JSON.stringify(command)} (see chainsweep hub)`);
  // Everything that can be checked without the store is checked before it is opened.
  const password = command === 'user add' ? await readPassword(io) : '';
  const db = await openStore({ dataDir: values.data, ...(postgresUrl ? { postgresUrl } : {}) });
  const now = new Date();
  const out = (line: string) => io.stdout.write(`${line}\n`);
  try {
    switch (command) {
      case 'org add': {
        const org = await createOrg(
          db,
          { name: arg('NAME'), staleDays: wholeNumber('--stale-days', values['stale-days']) },
          now,
        );
        out(org.id);
        break;
      }
      case 'org list':
        noArgs();
        for (const org of await listOrgs(db, OPERATOR))
          out(`${org.id}\t${org.name}\t${org.staleDays ?? '-'}`);
        break;
      case 'user add': {
        const orgId = await orgIdOf(db, values.org);
        const user = await createUser(
          db,
          OPERATOR,
          { orgId, email: arg('EMAIL'), password, role: values.role },
          now,
        );
        out(user.id);
        break;
      }
      case 'token add': {
        noArgs();
        const orgId = await orgIdOf(db, values.org);
        const expiresAt = values.expires
          ? new Date(now.getTime() + parseDuration('--expires', values.expires)).toISOString()
          : undefined;
        const made = await createToken(
          db,
          OPERATOR,
          {
            orgId,
            kind: values.kind,
            name: values.name,
            role: values.role,
            expiresAt,
            maxUses: wholeNumber('--max-uses', values['max-uses']),
          },
          now,
        );
        io.stderr.write(`chainsweep: ${made.info.kind} token ${made.info.id} issued; it is shown only now\n`);
        out(made.token);
        break;
      }
      case 'token list': {
        noArgs();
        const orgId = await orgIdOf(db, values.org);
        out('id\tkind\tname\trole\tcreated\texpires\tuses\trevoked');
        for (const t of await listTokens(db, { kind: 'org', orgId }))
          out(
            [
              t.id,
              t.kind,
              t.name || '-',
              t.role ?? '-',
              t.createdAt,
              t.expiresAt ?? '-',
              t.maxUses === null ? t.uses : `${t.uses}/${t.maxUses}`,
              t.revokedAt ?? '-',
            ].join('\t'),
          );
        break;
      }
      case 'token revoke':
        await revokeToken(db, OPERATOR, arg('ID'), now);
        io.stderr.write('chainsweep: token revoked\n');
        break;
      case 'agent list': {
        noArgs();
        const orgId = await orgIdOf(db, values.org);
        out('id\thost\thostname\tenrolled\tlast seen\trevoked');
        for (const a of await listAgents(db, { kind: 'org', orgId }))
          out([a.id, a.hostId, a.hostname, a.enrolledAt, a.lastSeenAt ?? '-', a.revokedAt ?? '-'].join('\t'));
        break;
      }
      case 'agent revoke':
        await revokeAgent(db, OPERATOR, arg('ID'), now);
        io.stderr.write('chainsweep: agent revoked; its credential is refused from now on\n');
        break;
    }
  } finally {
    await db.close();
  }
  return 0;
}

function wholeNumber(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value))
    throw new UserError('USAGE', `${option} ${JSON.stringify(value)}: expected a whole number`);
  return Number(value);
}

async function orgIdOf(db: Db, name: string | undefined): Promise<string> {
  if (!name) throw new UserError('USAGE', '--org NAME is required');
  const org = await findOrgByName(db, OPERATOR, name);
  if (!org) throw new UserError('USAGE', `no organisation named ${JSON.stringify(name)} (see hub org list)`);
  return org.id;
}

/** The password: the first line of stdin (a terminal gets a prompt). Empty input is refused. */
async function readPassword(io: CliIo & { stdin?: NodeJS.ReadableStream }): Promise<string> {
  const stdin = io.stdin ?? process.stdin;
  if ((stdin as { isTTY?: boolean }).isTTY) io.stderr.write('password: ');
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.includes('\n') || text.length > MAX_PASSWORD_INPUT) break;
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (!line) throw new UserError('USAGE', 'user add: give the password on stdin (it was empty)');
  return line;
}
