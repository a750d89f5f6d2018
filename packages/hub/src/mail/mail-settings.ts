/** How the hub sends and receives the support desk's email (`serve --smtp`, `--mail-*`, `--mailbox`). */
export interface MailSettings {
  /** `smtp://[user:password@]host[:port]` (STARTTLS when offered) or `smtps://` (TLS from the start). */
  smtpUrl: string;
  /** The sender address of every notification. */
  from: string;
  /** Where notifications of unassigned tickets go on the vendor's side (a queue mailbox); none if absent. */
  staffAddress?: string;
  /** The base address replies go to (`support@hub.example`): each recipient gets `support+TOKEN@hub.example`. */
  replyAddress?: string;
  /** A Maildir that replies to `replyAddress` are delivered into; read and emptied of new mail by the hub. */
  mailbox?: string;
  /** How often the outbox and the mailbox are polled. */
  pollMs?: number;
  /** Waits between failed attempts of one message, then it is `failed`. */
  backoffMs?: readonly number[];
  /** Refuse a server whose certificate does not verify (default true; false for labs only). */
  verifyTls?: boolean;
}

/** Default waits between attempts: 1 min, 5 min, 30 min, 2 h, 6 h. */
export const DEFAULT_MAIL_BACKOFF_MS: readonly number[] = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000];

const ADDRESS =
  /^[^\s@<>()[\]",;:\\\p{Cc}]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/iu;

/** Whether `value` is a plain `local@domain` address (no display name, no comments, no control characters). */
export function isMailAddress(value: string): boolean {
  return value.length <= 254 && ADDRESS.test(value);
}

/** Checks an `--smtp` URL: its error names what is wrong, never the password. */
export function smtpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return 'must start with smtp:// or smtps://';
  if (!url.hostname) return 'has no host';
  if (url.pathname && url.pathname !== '/') return 'must not have a path';
  return undefined;
}
