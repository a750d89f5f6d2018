import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import {
  type Json,
  jsonCaller,
  type SeededOrg,
  seedOrg,
  type TestApp,
  testApp,
} from '../testing/test-hub.js';
import type { MailSettings } from './mail-settings.js';
import { MAX_INBOUND_BYTES, readMailboxOnce } from './mailbox.js';
import { REPLY_ABOVE } from './ticket-mail.js';

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

/** A Thunderbird-style plain reply: quoted-printable UTF-8, the marker quoted below an attribution line. */
const thunderbird = (from: string, to: string, id: string) =>
  crlf([
    `From: Ana Admin <${from}>`,
    `To: Vendor support <${to}>`,
    'Subject: Re: [chainsweep hub ticket 1234] DLL',
    `Message-ID: <${id}@mail.acme.test>`,
    'Date: Fri, 4 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8; format=flowed',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'We removed it from all 40 machines =E2=80=94 M=C3=BCnchen office included.',
    '',
    'On 04/12/2026 09:00, Vendor support wrote:',
    `> ${REPLY_ABOVE}`,
    '>',
    '> Vendor support wrote on the ticket "DLL":',
  ]);

/** A Gmail-style reply: multipart/alternative, the attribution wrapped over two lines. */
const gmail = (from: string, to: string) =>
  crlf([
    `From: ${from}`,
    `To: ${to}`,
    'Subject: Re: ticket',
    'Message-ID: <CAF+gmail-1@mail.gmail.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="000000000000b1"',
    '',
    '--000000000000b1',
    'Content-Type: text/plain; charset="UTF-8"',
    '',
    'Here are the hashes you asked for.',
    '',
    'On Fri, Dec 4, 2026 at 9:00 AM Vendor support <',
    'support+x@hub.test> wrote:',
    '',
    `> ${REPLY_ABOVE}`,
    '',
    '--000000000000b1',
    'Content-Type: text/html; charset="UTF-8"',
    '',
    '<div dir="ltr">Here are the hashes you asked for.</div>',
    '--000000000000b1--',
  ]);

/** An Outlook-style HTML-only reply, the original below a From/Sent block. */
const outlook = (from: string, to: string) =>
  crlf([
    `From: "Admin, Ana" <${from}>`,
    `To: "support" <${to}>`,
    'Subject: RE: ticket',
    'Message-ID: <AM0PR01-outlook-1@eurprd01.prod.outlook.com>',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(
      '<html><head><style>p{margin:0}</style></head><body><p>Done &amp; verified: 3CX &lt;18.12.416&gt; is gone.</p>' +
        '<p>Ana</p><div><p>From: Vendor support &lt;support@hub.test&gt;<br>Sent: Friday<br></p></div>' +
        '<blockquote><p>old text</p></blockquote></body></html>',
    ).toString('base64'),
  ]);

describe.each(DIALECTS)('emailed replies from a Maildir on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let folder: string;
  let vendor: SeededOrg;
  let a: SeededOrg;
  let b: SeededOrg;
  let settings: MailSettings & { mailbox: string; replyAddress: string };
  const call = async (method: string, path: string, token: string, body?: unknown) =>
    (await jsonCaller((p, init) => hub.app.request(p, init))(method, path, token, body)).json;
  const deliver = (name: string, content: string | Buffer) =>
    writeFileSync(join(folder, 'new', name), content);
  const messages = async (id: string) =>
    ((await call('GET', `/api/v1/tickets/${id}`, a.apiTokens['org-admin'])).ticket.messages as Json[]).map(
      (m) => [m.body, m.via],
    );
  /** A ticket of A answered by staff, and the reply address A's admin was sent. */
  const answeredTicket = async (org: SeededOrg) => {
    const id = (
      await call('POST', '/api/v1/tickets', org.apiTokens['org-member'], {
        incident: '3cx-2023',
        subject: 'DLL',
      })
    ).ticket.id as string;
    await call('POST', `/api/v1/tickets/${id}/messages`, vendor.apiTokens['vendor-staff'], {
      body: 'Please uninstall.',
    });
    const row = await store.db.get<{ reply_to: string }>(
      'SELECT reply_to FROM mail_outbox WHERE ticket_id = ? AND reply_to IS NOT NULL',
      [id],
    );
    return { id, replyTo: row?.reply_to as string };
  };

  beforeEach(async () => {
    store = await openTestStore(dialect);
    folder = mkdtempSync(join(tmpdir(), 'maildir-'));
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(folder, sub));
    settings = {
      smtpUrl: 'smtp://127.0.0.1:1',
      from: 'support@hub.test',
      staffAddress: 'queue@vendor.test',
      replyAddress: 'support@hub.test',
      mailbox: folder,
    };
    hub = testApp(store.db, { config: { mail: settings } });
    vendor = await seedOrg(store.db, 'Vendor');
    a = await seedOrg(store.db, 'Acme');
    b = await seedOrg(store.db, 'Beta');
    await call('POST', '/api/v1/incidents', vendor.apiTokens['vendor-staff'], {
      slug: '3cx-2023',
      title: '3CX',
      freeTickets: 10,
    });
  });
  afterEach(async () => {
    await store.cleanup();
    rmSync(folder, { recursive: true, force: true });
  });

  it('lands replies from Thunderbird, Gmail and Outlook on the ticket as their sender, above the quote', async () => {
    const { id, replyTo } = await answeredTicket(a);
    const admin = a.emails['org-admin'];
    deliver('1.m1', thunderbird(admin, replyTo.toUpperCase(), 'tb-1'));
    deliver('2.m2', gmail(admin, replyTo));
    deliver('3.m3', outlook(admin.toUpperCase(), replyTo));
    const outcomes = await readMailboxOnce(store.db, settings, new Date());
    expect(outcomes.map((o) => [o.file, o.accepted, o.reason])).toEqual([
      ['1.m1', true, undefined],
      ['2.m2', true, undefined],
      ['3.m3', true, undefined],
    ]);
    expect(await messages(id)).toEqual([
      ['Please uninstall.', 'api'],
      ['We removed it from all 40 machines — München office included.', 'email'],
      ['Here are the hashes you asked for.', 'email'],
      ['Done & verified: 3CX <18.12.416> is gone.\nAna', 'email'],
    ]);
    expect(readdirSync(join(folder, 'new'))).toEqual([]);
    expect(readdirSync(join(folder, 'cur')).sort()).toEqual(['1.m1:2,S', '2.m2:2,S', '3.m3:2,S']);
    // The customer's reply went on to staff, by mail.
    const toStaff = await store.db.all<{ to_addr: string }>(
      "SELECT to_addr FROM mail_outbox WHERE ticket_id = ? AND to_addr = 'queue@vendor.test'",
      [id],
    );
    expect(toStaff.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a forged sender, an unknown or another user’s address, automatic replies, and lands a message once', async () => {
    const { id, replyTo } = await answeredTicket(a);
    const other = await answeredTicket(b);
    const admin = a.emails['org-admin'];
    deliver('1.forged', thunderbird('attacker@evil.test', replyTo, 'f-1'));
    deliver('2.b-admin', thunderbird(b.emails['org-admin'], replyTo, 'f-2'));
    deliver('3.a-member', thunderbird(a.emails['org-member'], replyTo, 'f-3'));
    deliver('4.guessed', thunderbird(admin, 'support+aaaaaaaaaaaaaaaaaaaaaaaa@hub.test', 'f-4'));
    deliver('5.cross', thunderbird(admin, other.replyTo, 'f-5'));
    deliver('6.plain', thunderbird(admin, 'support@hub.test', 'f-6'));
    deliver('7.ooo', `Auto-Submitted: auto-replied\r\n${thunderbird(admin, replyTo, 'f-7')}`);
    deliver('8.bulk', `Precedence: bulk\r\n${thunderbird(admin, replyTo, 'f-8')}`);
    deliver('9.once', thunderbird(admin, replyTo, 'same'));
    deliver('9.twice', thunderbird(admin, replyTo, 'same'));
    const outcomes = await readMailboxOnce(store.db, settings, new Date());
    expect(outcomes.map((o) => [o.file, o.accepted, o.reason])).toEqual([
      ['1.forged', false, 'the sender is not who the reply address was sent to'],
      ['2.b-admin', false, 'the sender is not who the reply address was sent to'],
      ['3.a-member', false, 'the sender is not who the reply address was sent to'],
      ['4.guessed', false, 'an unknown reply address'],
      ['5.cross', false, 'the sender is not who the reply address was sent to'],
      ['6.plain', false, 'not sent to a reply address'],
      ['7.ooo', false, 'an automatic reply'],
      ['8.bulk', false, 'an automatic reply'],
      ['9.once', true, undefined],
      ['9.twice', false, 'this message was already received'],
    ]);
    expect((await messages(id)).filter(([, via]) => via === 'email')).toHaveLength(1);
    const bMessages = (await call('GET', `/api/v1/tickets/${other.id}`, b.apiTokens['org-admin'])).ticket
      .messages;
    expect(bMessages).toHaveLength(1);
    expect(readdirSync(join(folder, 'cur')).filter((n) => n.endsWith(':2,ST'))).toHaveLength(9);
  });

  it('refuses other automatic mail and a From with more than one mailbox', async () => {
    const { id, replyTo } = await answeredTicket(a);
    const admin = a.emails['org-admin'];
    const variants: [string, string][] = [
      ['1.autoreply', `X-Autoreply: yes\r\n${thunderbird(admin, replyTo, 'v1')}`],
      ['2.autorespond', `X-Autorespond: yes\r\n${thunderbird(admin, replyTo, 'v2')}`],
      ['3.exchange-oof', `X-Auto-Response-Suppress: All\r\n${thunderbird(admin, replyTo, 'v3')}`],
      ['4.bounce', `Return-Path: <>\r\n${thunderbird(admin, replyTo, 'v4')}`],
      ['5.list', `List-Id: <incident.lists.example>\r\n${thunderbird(admin, replyTo, 'v5')}`],
      ['6.two-from', `From: ${admin}\r\n${thunderbird('someone@evil.test', replyTo, 'v6')}`],
      ['7.two-in-from', thunderbird(`${admin}>, <someone@evil.test`, replyTo, 'v7')],
      ['8.group', thunderbird(admin, replyTo, 'v8').replace(/^From: .*$/m, `From: team: ${admin};`)],
    ];
    for (const [name, mail] of variants) deliver(name, mail);
    const outcomes = await readMailboxOnce(store.db, settings, new Date());
    expect(outcomes.map((o) => [o.file, o.accepted])).toEqual(variants.map(([name]) => [name, false]));
    expect(outcomes.slice(0, 5).every((o) => o.reason === 'an automatic reply')).toBe(true);
    expect(
      outcomes.slice(5).every((o) => o.reason === 'the sender is not who the reply address was sent to'),
    ).toBe(true);
    expect((await messages(id)).filter(([, via]) => via === 'email')).toEqual([]);
  });

  it('does not read a mailbox whose new/ or cur/ is a symbolic link, and touches nothing through it', async () => {
    const { replyTo } = await answeredTicket(a);
    const victim = mkdtempSync(join(tmpdir(), 'victim-'));
    writeFileSync(join(victim, 'precious'), 'keep');
    rmSync(join(folder, 'new'), { recursive: true });
    symlinkSync(victim, join(folder, 'new'));
    await expect(readMailboxOnce(store.db, settings, new Date())).rejects.toThrow(/new is a symbolic link/);
    expect(readdirSync(victim)).toEqual(['precious']);
    rmSync(join(folder, 'new'));
    mkdirSync(join(folder, 'new'));
    rmSync(join(folder, 'cur'), { recursive: true });
    symlinkSync(victim, join(folder, 'cur'));
    deliver('1.m', thunderbird(a.emails['org-admin'], replyTo, 'x'));
    await expect(readMailboxOnce(store.db, settings, new Date())).rejects.toThrow(/cur is a symbolic link/);
    expect(readdirSync(victim)).toEqual(['precious']);
    expect(readdirSync(join(folder, 'new'))).toEqual(['1.m']);
    rmSync(victim, { recursive: true });
  });

  it('sets aside symbolic links, oversized and unparseable files, and refuses a reply to a closed ticket', async () => {
    const { id, replyTo } = await answeredTicket(a);
    const admin = a.emails['org-admin'];
    const secret = join(folder, 'secret');
    writeFileSync(secret, thunderbird(admin, replyTo, 'linked'));
    symlinkSync(secret, join(folder, 'new', '1.link'));
    deliver('2.huge', Buffer.alloc(MAX_INBOUND_BYTES + 1, 'a'));
    deliver('3.empty', thunderbird(admin, replyTo, 'empty').replace(/We removed[^\r]*/, ''));
    await call('POST', `/api/v1/tickets/${id}/state`, vendor.apiTokens['vendor-staff'], { to: 'closed' });
    deliver('4.closed', thunderbird(admin, replyTo, 'closed'));
    const outcomes = await readMailboxOnce(store.db, settings, new Date());
    expect(outcomes.map((o) => [o.file, o.accepted, o.reason])).toEqual([
      ['1.link', false, 'unreadable: ELOOP'],
      ['2.huge', false, `over ${MAX_INBOUND_BYTES} bytes`],
      ['3.empty', false, 'the reply is empty'],
      ['4.closed', false, 'the ticket is closed; open a new one'],
    ]);
    expect((await messages(id)).filter(([, via]) => via === 'email')).toEqual([]);
  });
});
