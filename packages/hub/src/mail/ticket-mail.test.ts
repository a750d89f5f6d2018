import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUser } from '../auth/users.js';
import type { Db } from '../store/db.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import {
  jsonCaller,
  type SeededOrg,
  seedOrg,
  TEST_PASSWORD,
  type TestApp,
  testApp,
} from '../testing/test-hub.js';
import { createWebhook } from '../webhooks/webhook-store.js';
import { selfSignedCertificate, testSettings } from '../webhooks/webhook-test-kit.js';
import type { MailSettings } from './mail-settings.js';
import { REPLY_ABOVE } from './ticket-mail.js';

const NOTE = 'INTERNAL-NOTE-51c2: the customer runs the trojanized build';
const MAIL: MailSettings = {
  smtpUrl: 'smtp://127.0.0.1:1',
  from: 'support@hub.test',
  staffAddress: 'queue@vendor.test',
  replyAddress: 'support@hub.test',
};
const webhookSettings = testSettings(selfSignedCertificate());

type Outbox = {
  to_addr: string;
  subject: string;
  text_body: string;
  reply_to: string | null;
  org_id: string;
};
const outbox = (db: Db) =>
  db.all<Outbox>(
    'SELECT to_addr, subject, text_body, reply_to, org_id FROM mail_outbox ORDER BY created_at, id',
  );

describe.each(DIALECTS)('ticket notifications on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let vendor: SeededOrg;
  let a: SeededOrg;
  let b: SeededOrg;
  const call = jsonCaller((path, init) => hub.app.request(path, init));
  const staff = () => vendor.apiTokens['vendor-staff'];
  const memberA = () => a.apiTokens['org-member'];

  beforeEach(async () => {
    store = await openTestStore(dialect);
    hub = testApp(store.db, {
      config: { mail: MAIL, publicUrl: 'https://hub.test', webhooks: webhookSettings },
    });
    vendor = await seedOrg(store.db, 'Vendor');
    a = await seedOrg(store.db, 'Acme');
    b = await seedOrg(store.db, 'Beta');
    await call('POST', '/api/v1/incidents', staff(), { slug: '3cx-2023', title: '3CX', freeTickets: 10 });
  });
  afterEach(() => store.cleanup());

  it('mails the other side of each public change, never an internal note, never another organisation', async () => {
    const opened = await call('POST', '/api/v1/tickets', memberA(), {
      incident: '3cx-2023',
      subject: 'Is ffmpeg.dll on our build?',
      body: 'We still run 18.12.416.',
    });
    expect(opened.status).toBe(201);
    const id = opened.json.ticket.id as string;
    let mails = await outbox(store.db);
    expect(mails.map((m) => m.to_addr)).toEqual(['queue@vendor.test']);
    expect(mails[0]?.text_body).toContain('We still run 18.12.416.');
    expect(mails[0]?.reply_to).toBeNull();

    expect(
      (await call('POST', `/api/v1/tickets/${id}/messages`, staff(), { body: NOTE, internal: true })).status,
    ).toBe(201);
    expect(await outbox(store.db)).toHaveLength(1);

    const reply = await call('POST', `/api/v1/tickets/${id}/messages`, staff(), {
      body: 'Uninstall it now.',
    });
    expect(reply.status).toBe(201);
    mails = await outbox(store.db);
    // Opened by an API token: no user wrote on it yet, so the organisation's admins hear.
    expect(mails.slice(1).map((m) => m.to_addr)).toEqual([a.emails['org-admin']]);
    const toCustomer = mails[1] as Outbox;
    expect(toCustomer.subject).toBe(`[chainsweep hub ticket ${id.slice(0, 8)}] Is ffmpeg.dll on our build?`);
    expect(toCustomer.text_body.split('\n')[0]).toBe(REPLY_ABOVE);
    expect(toCustomer.text_body).toContain('Uninstall it now.');
    expect(toCustomer.text_body).toContain(`https://hub.test/api/v1/tickets/${id}`);
    expect(toCustomer.reply_to).toMatch(/^support\+[a-z2-7]{24}@hub\.test$/);

    expect((await call('POST', `/api/v1/tickets/${id}/state`, staff(), { to: 'pending' })).status).toBe(200);
    mails = await outbox(store.db);
    expect(mails.at(-1)?.subject).toMatch(/: now pending$/);
    // One reply address per user and ticket, the same in every mail.
    expect(new Set(mails.slice(1).map((m) => m.reply_to)).size).toBe(1);

    const all = JSON.stringify(mails);
    expect(all).not.toContain('INTERNAL-NOTE-51c2');
    expect(mails.every((m) => m.org_id === a.orgId)).toBe(true);
    expect(all).not.toContain('@beta.test');
  });

  it('keeps a subject from reading as an encoded header word in the mail', async () => {
    const opened = await call('POST', '/api/v1/tickets', memberA(), {
      incident: '3cx-2023',
      subject: 'encw =?UTF-8?B?DQpCY2M6IGV2aWxAZXZpbC50ZXN0?= end',
    });
    expect(opened.status).toBe(201);
    const [mail] = await outbox(store.db);
    expect(mail?.subject).toContain('encw = ?UTF-8?B?DQpCY2M6IGV2aWxAZXZpbC50ZXN0?= end');
    expect(mail?.subject).not.toContain('=?');
  });

  it('mails the assignee instead of the queue, and the users who wrote instead of the admins', async () => {
    const staffUser = await createUser(
      store.db,
      { kind: 'all' },
      { orgId: vendor.orgId, email: 'ana@vendor.test', password: TEST_PASSWORD, role: 'vendor-staff' },
      new Date(),
    );
    const opened = await call('POST', '/api/v1/tickets', memberA(), {
      incident: '3cx-2023',
      subject: 'help',
    });
    const id = opened.json.ticket.id as string;
    expect((await call('PATCH', `/api/v1/tickets/${id}`, staff(), { assignee: staffUser.id })).status).toBe(
      200,
    );
    const before = (await outbox(store.db)).length;
    await call('POST', `/api/v1/tickets/${id}/messages`, memberA(), { body: 'any news?' });
    const mails = (await outbox(store.db)).slice(before);
    expect(mails.map((m) => m.to_addr)).toEqual(['ana@vendor.test']);
    expect(mails[0]?.reply_to).toBeNull();
  });

  it('sends ticket webhooks to the ticket organisation only, without message text', async () => {
    const hook = (orgId: string) =>
      createWebhook(
        store.db,
        { kind: 'org', orgId },
        {
          url: 'https://localhost:9/hook',
          events: ['ticket.created', 'ticket.replied', 'ticket.state_changed'],
        },
        { settings: webhookSettings, now: new Date(), createdBy: 'test' },
      );
    const hookA = await hook(a.orgId);
    await hook(b.orgId);
    const opened = await call('POST', '/api/v1/tickets', memberA(), {
      incident: '3cx-2023',
      subject: 'webhooks',
      body: 'SECRET-BODY-1',
    });
    const id = opened.json.ticket.id as string;
    await call('POST', `/api/v1/tickets/${id}/messages`, staff(), { body: NOTE, internal: true });
    await call('POST', `/api/v1/tickets/${id}/messages`, staff(), { body: 'SECRET-BODY-2' });
    await call('POST', `/api/v1/tickets/${id}/state`, staff(), { to: 'resolved' });
    const deliveries = await store.db.all<{ webhook_id: string; event: string; body: string }>(
      `SELECT d.webhook_id, d.event, e.body FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       ORDER BY e.at, d.event`,
    );
    expect(deliveries.map((d) => [d.webhook_id, d.event])).toEqual([
      [hookA.info.id, 'ticket.created'],
      [hookA.info.id, 'ticket.replied'],
      [hookA.info.id, 'ticket.state_changed'],
    ]);
    const bodies = deliveries.map((d) => JSON.parse(d.body));
    expect(bodies[2].data).toMatchObject({
      ticketId: id,
      incident: '3cx-2023',
      by: 'staff',
      state: 'resolved',
    });
    expect(JSON.stringify(bodies)).not.toMatch(/SECRET-BODY|INTERNAL-NOTE/);
  });
});
