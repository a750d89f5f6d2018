import { lstatSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from './atomic-file.js';

/** What enrolment gave this agent: kept in `DIR/credential`, mode 0600, and sent only to the hub it came from. */
export const CredentialSchema = z.object({
  hub: z.string().url(),
  agentId: z.string().min(1).max(200),
  hostId: z.string().min(1).max(200),
  /** The bearer secret; printable ASCII only, since it travels in a header. */
  credential: z.string().regex(/^[\x21-\x7e]{8,1024}$/),
  enrolledAt: z.string(),
});
export type Credential = z.infer<typeof CredentialSchema>;

/** The stored credential, or undefined before enrolment. One that others may read, or that is damaged, is refused. */
export function readCredential(path: string): Credential | undefined {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return undefined;
  const uid = process.getuid?.();
  if (!stat.isFile() || (stat.mode & 0o077) !== 0 || (uid !== undefined && stat.uid !== uid))
    throw new UserError(
      'USAGE',
      `agent: credential ${path} must be a file of this user's with mode 0600 (it is mode ${(stat.mode & 0o7777).toString(8)}, uid ${stat.uid}); fix it, or remove it and enrol again`,
    );
  let parsed: z.ZodSafeParseResult<Credential>;
  try {
    parsed = CredentialSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    throw new UserError('USAGE', `agent: credential ${path} is not JSON; remove it and enrol again`);
  }
  if (!parsed.success)
    throw new UserError(
      'USAGE',
      `agent: credential ${path}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}; remove it and enrol again`,
    );
  return parsed.data;
}

/** Stores the credential atomically, mode 0600. */
export function writeCredential(path: string, credential: Credential): void {
  writeFileAtomic(path, Buffer.from(`${JSON.stringify(credential, null, 2)}\n`), 0o600);
}

/** The hub URL in one spelling (trailing slash, no query or fragment), so a stored credential can be matched to it. */
export function normaliseHubUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError('USAGE', `agent: --hub ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UserError('USAGE', `agent: --hub ${JSON.stringify(text)} must be an http or https URL`);
  if (url.username || url.password)
    throw new UserError('USAGE', 'agent: --hub must not carry a user name or password');
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url.href;
}
