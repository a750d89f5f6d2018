import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { seedOrg } from '../testing/test-hub.js';
import { startMailDelivery } from './mail-delivery.js';
import { enqueueMail, type OutgoingMail } from './mail-outbox.js';
import type { MailSettings } from './mail-settings.js';
import { type SmtpSink, startSmtpSink } from './smtp-test-sink.js';

const quiet = () => {};
const statusOf = async (db: Db) =>
  db.all<{ to_addr: string; status: string; attempts: number; last_error: string | null }>(
    'SELECT to_addr, status, attempts, last_error FROM mail_outbox ORDER BY to_addr',
  );
const until = async (check: () => Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe.each(DIALECTS)('mail delivery over SMTP on %s', (dialect) => {
  let store: TestStore;
  let sink: SmtpSink;
  let orgId: string;
  let settings: MailSettings;
  const mail = (to: string, extra: Partial<OutgoingMail> = {}): OutgoingMail => ({
    orgId,
    to,
    subject: 'Ticket 1',
    text: 'Hello',
    ...extra,
  });
  const enqueue = (...mails: OutgoingMail[]) =>
    store.db.transaction(async (tx) => {
      for (const m of mails) await enqueueMail(tx, m, new Date());
    });

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(() => sink.close());
  beforeEach(async () => {
    store = await openTestStore(dialect);
    orgId = (await seedOrg(store.db, 'Acme')).orgId;
    sink.received.length = 0;
    sink.answer = () => 250;
    settings = { smtpUrl: sink.url, from: 'support@hub.test', pollMs: 50, backoffMs: [100, 100] };
  });
  afterEach(() => store.cleanup());

  it('sends each message once with its headers, encoded subject and reply address', async () => {
    await enqueue(
      mail('ana@acme.test', {
        subject: 'Ist ffmpeg.dll betroffen? — Überprüfung',
        text: 'Zeile 1\n.starts with a dot\nÜnïcödé',
        replyTo: 'support+abcdefghijklmnopqrstuvwx@hub.test',
        threadId: '<ticket-1@hub.test>',
      }),
    );
    const delivery = startMailDelivery(
      store.db,
      settings,
      () => ({ name: 'Vendor, Inc.', address: 'support@hub.test' }),
      quiet,
    );
    try {
      const [got] = await sink.waitFor(1);
      expect(got?.envelopeTo).toEqual(['ana@acme.test']);
      expect(got?.email.subject).toBe('Ist ffmpeg.dll betroffen? — Überprüfung');
      expect(got?.email.from).toMatchObject({ name: 'Vendor, Inc.', address: 'support@hub.test' });
      expect(got?.email.replyTo?.[0]).toMatchObject({ address: 'support+abcdefghijklmnopqrstuvwx@hub.test' });
      expect(got?.email.references).toBe('<ticket-1@hub.test>');
      expect(got?.email.text?.trimEnd()).toBe('Zeile 1\n.starts with a dot\nÜnïcödé');
      expect(got?.email.headers.find((h) => h.key === 'auto-submitted')?.value).toBe('auto-generated');
      await until(async () => (await statusOf(store.db))[0]?.status === 'sent');
    } finally {
      await delivery.stop();
    }
    expect(sink.received).toHaveLength(1);
  });

  it('retries a temporary refusal, fails a permanent one at once, and gives up after the last wait', async () => {
    const answers: Record<string, number[]> = {
      'later@acme.test': [451, 250],
      'never@acme.test': [550],
      'busy@acme.test': [451, 451, 451],
    };
    sink.answer = (to) => answers[to]?.shift() ?? 250;
    await enqueue(mail('later@acme.test'), mail('never@acme.test'), mail('busy@acme.test'));
    const delivery = startMailDelivery(
      store.db,
      settings,
      () => ({ name: 'Hub', address: 'support@hub.test' }),
      quiet,
    );
    try {
      await until(async () => (await statusOf(store.db)).every((m) => m.status !== 'pending'));
    } finally {
      await delivery.stop();
    }
    const rows = await statusOf(store.db);
    expect(rows.map((r) => [r.to_addr, r.status, Number(r.attempts)])).toEqual([
      ['busy@acme.test', 'failed', 3],
      ['later@acme.test', 'sent', 2],
      ['never@acme.test', 'failed', 1],
    ]);
    expect(rows.find((r) => r.to_addr === 'never@acme.test')?.last_error).toMatch(/550/);
    expect(sink.received.map((m) => m.envelopeTo[0])).toEqual(['later@acme.test']);
  });

  it('keeps messages pending while the server is down, and sends them when it is back', async () => {
    await enqueue(mail('ana@acme.test'));
    const down: MailSettings = { ...settings, smtpUrl: 'smtp://127.0.0.1:1', backoffMs: [60_000] };
    const first = startMailDelivery(
      store.db,
      down,
      () => ({ name: 'Hub', address: 'support@hub.test' }),
      quiet,
    );
    await until(async () => Number((await statusOf(store.db))[0]?.attempts) === 1);
    await first.stop();
    expect((await statusOf(store.db))[0]).toMatchObject({ status: 'pending' });
    await store.db.run('UPDATE mail_outbox SET next_attempt_at = ?', [new Date(0).toISOString()]);
    const second = startMailDelivery(
      store.db,
      settings,
      () => ({ name: 'Hub', address: 'support@hub.test' }),
      quiet,
    );
    try {
      await sink.waitFor(1);
      await until(async () => (await statusOf(store.db))[0]?.status === 'sent');
    } finally {
      await second.stop();
    }
  });

  it('sends each message exactly once with two delivery loops on one store', async () => {
    const mails = Array.from({ length: 40 }, (_, i) => mail(`user${String(i).padStart(2, '0')}@acme.test`));
    await enqueue(...mails);
    const sender = () => ({ name: 'Hub', address: 'support@hub.test' });
    const loops = [
      startMailDelivery(store.db, settings, sender, quiet),
      startMailDelivery(store.db, settings, sender, quiet),
    ];
    try {
      await sink.waitFor(40);
      await until(async () => (await statusOf(store.db)).every((m) => m.status === 'sent'));
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
    }
    const to = sink.received.map((m) => m.envelopeTo[0]).sort();
    expect(to).toEqual(mails.map((m) => m.to));
  });
});
