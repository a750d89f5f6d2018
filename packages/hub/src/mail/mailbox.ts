import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import PostalMime, { type Address, addressParser, type Email } from 'postal-mime';
import { singleFlight } from '../background/single-flight.js';
import type { HubLog } from '../http/request-log.js';
import type { Db } from '../store/db.js';
import { addEmailReply, type OnTicketEvent } from '../support/tickets/index.js';
import { replyTarget, replyTokenIn } from './reply-address.js';
import { htmlText, replyText } from './reply-text.js';
import { REPLY_ABOVE } from './ticket-mail.js';

/** The largest message read from the mailbox; a larger one is set aside unread. */
export const MAX_INBOUND_BYTES = 10 * 1024 * 1024;
/** Messages taken per pass. */
const BATCH = 100;

/** What became of one message of the mailbox. */
export interface InboundOutcome {
  file: string;
  accepted: boolean;
  ticketId?: string;
  reason?: string;
}

/** Where replies are read from, and the base reply address they were sent to. */
export interface MailboxSettings {
  mailbox: string;
  replyAddress: string;
}

/**
 * Takes the new messages of a Maildir (`new/`): each emailed reply whose recipient is a reply address the hub
 * handed out, and whose `From` is the user it was handed to, lands on that user's ticket as their message (the
 * text above the reply marker or the quote); automatic replies (`Auto-Submitted`, `Precedence: bulk`) are
 * ignored. Every message taken moves to `cur/`, flagged seen (`S`), refused ones also trashed (`T`), after its
 * outcome is stored, so a crash reads it again and the store's message key keeps it from landing twice; a store
 * error leaves it in `new/` for the next pass.
 * Symbolic links and files over MAX_INBOUND_BYTES are set aside unread.
 */
export async function readMailboxOnce(
  db: Db,
  settings: MailboxSettings,
  now: Date,
  onEvent?: OnTicketEvent,
): Promise<InboundOutcome[]> {
  await realFolders(settings.mailbox);
  const fresh = join(settings.mailbox, 'new');
  const names = (await readdir(fresh))
    .filter((name) => !name.startsWith('.'))
    .sort()
    .slice(0, BATCH);
  const outcomes: InboundOutcome[] = [];
  for (const name of names) {
    const outcome = await takeMessage(db, settings, join(fresh, name), now, onEvent);
    const flags = outcome.accepted ? 'S' : 'ST';
    await rename(join(fresh, name), join(settings.mailbox, 'cur', `${name.split(':')[0]}:2,${flags}`)).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      },
    );
    outcomes.push({ file: name, ...outcome });
  }
  return outcomes;
}

async function takeMessage(
  db: Db,
  settings: MailboxSettings,
  file: string,
  now: Date,
  onEvent?: OnTicketEvent,
): Promise<Omit<InboundOutcome, 'file'>> {
  let raw: Buffer | 'too-large';
  let email: Email;
  try {
    raw = await readRegularFile(file);
    if (raw === 'too-large') return { accepted: false, reason: `over ${MAX_INBOUND_BYTES} bytes` };
    email = await PostalMime.parse(raw);
  } catch (error) {
    return {
      accepted: false,
      reason: `unreadable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    };
  }
  const header = (key: string) =>
    email.headers.filter((h) => h.key === key).map((h) => h.value.trim().toLowerCase());
  if (isAutomatic(header)) return { accepted: false, reason: 'an automatic reply' };
  const recipients = [
    ...mailboxesOf(email.to),
    ...mailboxesOf(email.cc),
    ...['delivered-to', 'x-original-to', 'envelope-to'].flatMap(header),
  ];
  const token = replyTokenIn(settings.replyAddress, recipients);
  if (!token) return { accepted: false, reason: 'not sent to a reply address' };
  const target = await replyTarget(db, token);
  if (!target) return { accepted: false, reason: 'an unknown reply address' };
  // One From header naming one mailbox (RFC 5322): with more, which one a DMARC check read is unknown.
  const fromLines = email.headers.filter((h) => h.key === 'from').map((h) => h.value);
  const parsed = fromLines.length === 1 ? addressParser(fromLines[0] as string) : [];
  const sender = parsed.length === 1 ? parsed[0]?.address : undefined;
  const user = await db.get<{ email: string }>('SELECT email FROM users WHERE id = ?', [target.userId]);
  if (!sender || !user || sender.toLowerCase() !== user.email.toLowerCase())
    return {
      accepted: false,
      ticketId: target.ticketId,
      reason: 'the sender is not who the reply address was sent to',
    };
  const text = email.text ?? (email.html ? htmlText(email.html) : '');
  const identity = email.messageId ?? createHash('sha256').update(raw).digest('hex');
  const result = await addEmailReply(
    db,
    {
      ticketId: target.ticketId,
      senderEmail: user.email,
      body: replyText(text, REPLY_ABOVE),
      receivedAt: now,
      messageKey: createHash('sha256').update(`${token}\0${identity}`).digest('hex'),
    },
    onEvent,
  );
  return result.accepted
    ? { accepted: true, ticketId: target.ticketId }
    : { accepted: false, ticketId: target.ticketId, reason: result.reason };
}

/**
 * Whether headers mark the message as sent by a machine: auto-replies and vacation notices (RFC 3834
 * `Auto-Submitted`, and the `X-Autoreply`, `X-Autorespond` and Exchange headers others send), bounces (a null
 * `Return-Path`), and list or bulk mail. Answering them would only make mail loops.
 */
function isAutomatic(header: (key: string) => string[]): boolean {
  return (
    header('auto-submitted').some((v) => v !== 'no') ||
    header('precedence').some((v) => /bulk|junk|list|auto/.test(v)) ||
    header('x-autoreply').length > 0 ||
    header('x-autorespond').length > 0 ||
    header('x-auto-response-suppress').some((v) => /\b(all|oof|autoreply)\b/.test(v)) ||
    header('return-path').some((v) => /^<\s*>$/.test(v)) ||
    header('list-id').length > 0
  );
}

/** Refuses a mailbox whose folder, `new/` or `cur/` is a symbolic link or not a folder (read again every pass). */
async function realFolders(mailbox: string): Promise<void> {
  for (const folder of [mailbox, join(mailbox, 'new'), join(mailbox, 'cur')]) {
    const stat = await lstat(folder);
    if (!stat.isDirectory())
      throw new Error(
        `${folder} is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}: the mailbox is not read`,
      );
  }
}

/** The bytes of a regular file, never through a symbolic link, or `too-large`. */
async function readRegularFile(file: string): Promise<Buffer | 'too-large'> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'NOT_A_FILE' });
    if (stat.size > MAX_INBOUND_BYTES) return 'too-large';
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function mailboxesOf(addresses: readonly Address[] | undefined): string[] {
  return (addresses ?? []).flatMap((a) => (a.group ? a.group.map((m) => m.address) : [a.address]));
}

/** Reads the mailbox every `pollMs` until stopped; each refusal is logged (never the message's text). */
export function startMailboxReader(
  db: Db,
  settings: MailboxSettings & { pollMs?: number },
  log: HubLog,
  now: () => Date,
  onEvent?: OnTicketEvent,
): { stop(): Promise<void> } {
  const flight = singleFlight(
    async () => {
      for (const o of await readMailboxOnce(db, settings, now(), onEvent))
        log({
          level: o.accepted ? 'info' : 'warn',
          msg: o.accepted ? 'email reply accepted' : 'email reply refused',
          file: o.file,
          ticket: o.ticketId,
          reason: o.reason,
        });
    },
    (error) => log({ level: 'error', msg: 'mailbox read failed', error: error.message }),
  );
  const interval = setInterval(flight.poll, settings.pollMs ?? 2000);
  flight.poll();
  return {
    stop: async () => {
      clearInterval(interval);
      await flight.stop();
    },
  };
}
