import { gzipSync } from 'node:zlib';
import type { Diagnostic } from '../core/diagnostic.js';
import { UserError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import { hunt } from '../hunt/hunt.js';
import { storedKeyList, type UpdateOutcome, updateFromFeed } from '../packs/feed.js';
import { applyKeyList } from '../packs/key-list.js';
import type { TrustedKey } from '../packs/keys.js';
import { BUNDLED_PACKS_DIR, loadIntel } from '../packs/load-intel.js';
import { PackStore } from '../packs/pack-store.js';
import { type ScanOptions, scan } from '../scan/scan.js';
import { type Credential, readCredential, writeCredential } from './credential.js';
import { deliver, type RetryPolicy } from './deliver.js';
import { enrol } from './hub-client.js';
import { Spool, type SpoolEntry, type SpoolLimits } from './spool.js';
import type { StateFolder } from './state-folder.js';

/** Everything an agent needs to run its cycles. */
export interface AgentOptions {
  folder: StateFolder;
  /** The hub's base URL, normalised (see normaliseHubUrl). */
  hub: string;
  /** Needed only until the agent holds a credential. */
  enrolToken?: string;
  /** Who the agent enrols as: the host a scan with these options reports on. */
  identity: { hostId: string; hostname: string };
  /** The id reports use when the machine has none of its own (see keptHostId). */
  keptHostId: string;
  /** Keys for the feed's packs and the rules a scan loads (default keyring plus `--keyring`). */
  keyring: readonly TrustedKey[];
  /** Root keys for the feed's key list (pinned roots plus `--root-keyring`). */
  roots: readonly TrustedKey[];
  intel: {
    bundled: boolean;
    packDirs: string[];
    iocFiles: string[];
    yaraPaths: string[];
    requireFresh: boolean;
  };
  /** The scan's options, less what the agent supplies itself. */
  scan: Omit<ScanOptions, 'intel' | 'intelDiagnostics' | 'signal' | 'onDiagnostics' | 'keptHostId'>;
  /** Log files and folders to hunt each cycle, if any. */
  logs: string[];
  spoolLimits: SpoolLimits;
  retry: RetryPolicy;
  /** Cycles in which the hub fails (5xx) on one report while taking others, before it moves to `rejected/` (10). */
  maxServerFailures?: number;
  toolVersion: string;
  /** One line per event, for stderr. */
  log: (line: string) => void;
  onDiagnostics: (diagnostics: Diagnostic[]) => void;
  /** Set when the agent should stop: it finishes the upload in flight, then returns. */
  stop: AbortSignal;
}

/** What became of one report made in a cycle. */
export interface ReportOutcome {
  reportId: string;
  command: string;
  files: number;
  findings: number;
  result: 'sent' | 'spooled' | 'rejected' | 'dropped' | 'lost';
  message?: string;
}

const DEFAULT_MAX_SERVER_FAILURES = 10;

/**
 * A 5xx that is the hub failing on the report itself; 502, 503 and 504 say the hub is down or busy, and every
 * report would wait behind them alike.
 */
function failsOnTheHub(status: number): boolean {
  return status >= 500 && status <= 599 && status !== 502 && status !== 503 && status !== 504;
}

/** What one cycle did, for `--format json` and the exit code. */
export interface CycleResult {
  enrolled: boolean;
  agentId?: string;
  packs: UpdateOutcome[];
  packsRefused?: string;
  reports: ReportOutcome[];
  /** Set when the hub refused the credential: nothing more can be sent until the agent enrols again. */
  credentialRefused?: string;
  spool: { reports: number; bytes: number; dropped: number; rejected: number };
}

/**
 * The agent: enrols once, then each cycle sends what the spool still holds, updates packs from the hub's feed,
 * scans (and hunts logs), spools every report before uploading it, and uploads. The caller holds the state
 * folder's lock.
 */
export class Agent {
  private readonly spool: Spool;
  private readonly store: PackStore;
  private credential: Credential | undefined;
  /** Reports of this cycle that could not be spooled, sent from memory at the next flush. */
  private unspooled: { outcome: ReportOutcome; gzipped: Buffer }[] = [];
  /** Reports the hub took from this process that the spool could not let go of: not sent twice by one process. */
  private readonly taken = new Set<string>();
  /** Spooled reports the hub failed on (5xx) in this cycle: not sent again before the next cycle. */
  private failedThisCycle = new Map<string, { entry: SpoolEntry; status: number; message: string }>();
  /** Whether the hub took a report in this cycle: only then is a 5xx for another one held against that one. */
  private tookThisCycle = false;

  constructor(private readonly options: AgentOptions) {
    this.spool = new Spool(options.folder, options.spoolLimits);
    this.store = new PackStore(options.folder.packs);
    this.credential = readCredential(options.folder.credential);
    if (this.credential && this.credential.hub !== options.hub)
      throw new UserError(
        'USAGE',
        `agent: ${options.folder.credential} was issued by ${this.credential.hub}, not ${options.hub}; use that hub, or remove the credential and enrol again`,
      );
    if (this.credential && options.enrolToken)
      options.log(`already enrolled as agent ${this.credential.agentId}: --enrol is not used`);
    if (!this.credential && !options.enrolToken)
      throw new UserError('USAGE', `agent: not enrolled yet in ${options.folder.dir}: give --enrol TOKEN`);
  }

  /** One cycle; UserErrors (a pack that fails to load, a scan that cannot start) end it. */
  async cycle(): Promise<CycleResult> {
    const o = this.options;
    const outcomes = new Map<string, ReportOutcome>();
    const result: CycleResult = {
      enrolled: false,
      packs: [],
      reports: [],
      spool: { reports: 0, bytes: 0, dropped: 0, rejected: 0 },
    };
    this.failedThisCycle = new Map();
    this.tookThisCycle = false;
    const finish = () => {
      this.countServerFailures();
      result.enrolled = this.credential !== undefined;
      if (this.credential) result.agentId = this.credential.agentId;
      result.reports = [...outcomes.values()];
      const counters = this.spool.counters();
      result.spool = { reports: this.spool.entries().length, bytes: this.spool.bytes(), ...counters };
      return result;
    };

    await this.enrolIfNeeded();
    // What earlier runs left in the spool goes first.
    const refusedAtStart = await this.flush(outcomes);
    if (refusedAtStart) result.credentialRefused = refusedAtStart;
    if (refusedAtStart || o.stop.aborted) return finish();

    await this.updatePacks(result);
    if (o.stop.aborted) return finish();

    const { intel, diagnostics } = await loadIntel({
      store: this.store,
      // Keys vouched for by the feed's key list (under any root given) verify the packs it brought.
      keyring: applyKeyList(o.keyring, storedKeyList(this.store, o.roots)),
      ...o.intel,
    });
    o.onDiagnostics(diagnostics);
    const scanned = await scan({
      ...o.scan,
      ownFolders: [...(o.scan.ownFolders ?? []), BUNDLED_PACKS_DIR, o.folder.dir],
      intel,
      intelDiagnostics: diagnostics,
      keptHostId: o.keptHostId,
      signal: o.stop,
    });
    // A scan cut short by a stop would claim coverage it never had: it is not sent.
    if (o.stop.aborted) {
      o.log('scan stopped before it finished: no report made');
      return finish();
    }
    o.log(
      `scanned ${scanned.stats.files} files with ${scanned.findings.length} findings (${scanned.outcome}; report ${scanned.reportId})`,
    );
    this.keep(scanned, outcomes);

    if (o.logs.length && !o.stop.aborted) {
      try {
        const hunted = await hunt({
          paths: o.logs,
          intel,
          intelDiagnostics: diagnostics,
          keptHostId: o.keptHostId,
          toolVersion: o.toolVersion,
        });
        o.log(
          `hunted ${hunted.hunt?.logs.length ?? 0} logs with ${hunted.findings.length} findings (${hunted.outcome}; report ${hunted.reportId})`,
        );
        this.keep(hunted, outcomes);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        o.log(`hunt not run: ${error.message}`);
      }
    }

    const refused = await this.flush(outcomes);
    if (refused) result.credentialRefused = refused;
    return finish();
  }

  private async enrolIfNeeded(): Promise<void> {
    const o = this.options;
    if (this.credential || !o.enrolToken) return;
    try {
      const answer = await enrol(
        o.hub,
        { token: o.enrolToken, hostId: o.identity.hostId, hostname: o.identity.hostname },
        { timeoutMs: o.retry.requestTimeoutMs },
      );
      const credential: Credential = { hub: o.hub, ...answer, enrolledAt: new Date().toISOString() };
      writeCredential(o.folder.credential, credential);
      this.credential = credential;
      o.log(
        `enrolled with ${o.hub} as agent ${answer.agentId} for host ${answer.hostId} (${o.identity.hostname})`,
      );
    } catch (error) {
      if (!(error instanceof UserError) || error.code !== 'NETWORK') throw error;
      o.log(`not enrolled yet: ${error.message}; reports are spooled until enrolment succeeds`);
    }
  }

  private async updatePacks(result: CycleResult): Promise<void> {
    const o = this.options;
    const feed = new URL('feed/', o.hub).href;
    try {
      const update = await updateFromFeed(feed, {
        store: this.store,
        keyring: o.keyring,
        roots: o.roots,
        allowStale: false,
      });
      for (const warning of update.warnings) o.log(`packs: ${warning}`);
      result.packs = update.outcomes;
      const installed = update.outcomes.filter((u) => u.result === 'installed');
      for (const u of update.outcomes.filter((u) => u.result !== 'up-to-date'))
        o.log(`packs: ${u.result} ${u.id}: ${u.message}`);
      if (!installed.length && update.outcomes.every((u) => u.result === 'up-to-date'))
        o.log(`packs up to date from ${feed}${update.notModified ? ' (not modified)' : ''}`);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      result.packsRefused = error.message;
      o.log(`packs: feed refused: ${error.message}; scanning with the packs already installed`);
    }
  }

  /** Spools a report (the point from which it cannot be lost); one that cannot be spooled is sent at once. */
  private keep(report: Report, outcomes: Map<string, ReportOutcome>): void {
    const outcome: ReportOutcome = {
      reportId: report.reportId,
      command: report.command,
      files: report.stats.files,
      findings: report.findings.length,
      result: 'spooled',
    };
    outcomes.set(report.reportId, outcome);
    const gzipped = gzipSync(JSON.stringify(report));
    try {
      const { entry, dropped } = this.spool.add(report.reportId, report.command, gzipped);
      if (dropped.length) {
        for (const d of dropped) {
          const mine = outcomes.get(d.reportId);
          if (mine) mine.result = 'dropped';
        }
        this.options.log(
          `spool full (${this.options.spoolLimits.maxReports} reports, ${this.options.spoolLimits.maxBytes} bytes): dropped the ${dropped.length} oldest, ${this.spool.counters().dropped} dropped in all`,
        );
      }
      if (entry) return;
      outcome.message = `${gzipped.length} bytes gzipped, more than the spool's ${this.options.spoolLimits.maxBytes}`;
    } catch (error) {
      outcome.message = `cannot spool: ${(error as Error).message}`;
    }
    outcome.result = 'lost';
    this.unspooled.push({ outcome, gzipped });
    this.options.log(`report ${report.reportId} not spooled (${outcome.message}); sending it now`);
  }

  /**
   * Sends the spool oldest first, then any report that could not be spooled. Goes on past a spooled report the hub
   * fails on (5xx, see failsOnTheHub), which waits for the next cycle; stops at the first report that must wait
   * (the hub is down or busy: the rest would wait too) or when the hub refuses the credential, whose message it
   * returns.
   */
  private async flush(outcomes: Map<string, ReportOutcome>): Promise<string | undefined> {
    const o = this.options;
    const credential = this.credential;
    if (!credential) {
      this.unspooled = [];
      return undefined;
    }
    const send = (gzipped: Buffer, label: string) =>
      deliver(o.hub, credential.credential, gzipped, o.retry, o.stop, o.log, label);
    const queue: ({ entry: SpoolEntry } | { outcome: ReportOutcome; gzipped: Buffer })[] = [
      ...this.spool
        .entries()
        .filter((entry) => !this.taken.has(entry.reportId) && !this.failedThisCycle.has(entry.name))
        .map((entry) => ({ entry })),
      ...this.unspooled,
    ];
    this.unspooled = [];
    for (const item of queue) {
      if (o.stop.aborted) break;
      const entry = 'entry' in item ? item.entry : undefined;
      const reportId = entry?.reportId ?? ('outcome' in item ? item.outcome.reportId : '');
      const label = `${entry?.command ?? ('outcome' in item ? item.outcome.command : '')} report ${reportId}`;
      let bytes: Buffer;
      try {
        bytes = entry ? this.spool.read(entry) : (item as { gzipped: Buffer }).gzipped;
      } catch (error) {
        o.log(`cannot read spooled ${label}: ${(error as Error).message}`);
        continue;
      }
      const delivery = await send(bytes, label);
      const outcome = outcomes.get(reportId);
      if (delivery.kind === 'accepted') {
        this.taken.add(reportId);
        this.tookThisCycle = true;
        if (entry) this.settle(() => this.spool.remove(entry), label, 'sent again next time (harmless)');
        if (outcome) outcome.result = 'sent';
        o.log(`uploaded ${label}${delivery.duplicate ? ' (the hub had it already)' : ''}`);
      } else if (delivery.kind === 'rejected') {
        if (entry)
          this.settle(
            () => this.spool.reject(entry, delivery.status, delivery.message),
            label,
            'sent again next time',
          );
        if (outcome) {
          outcome.result = 'rejected';
          outcome.message = delivery.message;
        }
        o.log(
          `the hub rejected ${label} for good (${delivery.message}); ${entry ? `kept in ${o.folder.rejected}, ` : ''}${this.spool.counters().rejected} rejected in all`,
        );
      } else if (delivery.kind === 'unauthorized') {
        return `the hub refused this agent's credential (${delivery.message}): it was revoked or is unknown; remove ${o.folder.credential} and run again with --enrol TOKEN (${this.spool.entries().length} reports stay in ${o.folder.spool})`;
      } else if (entry && failsOnTheHub(delivery.status)) {
        // The hub answers, but fails on this report: newer ones are not held behind it.
        this.failedThisCycle.set(entry.name, { entry, status: delivery.status, message: delivery.message });
        o.log(`${label} failed on the hub (${delivery.message}); it stays spooled, newer reports go on`);
      } else {
        o.log(
          `${label} waits: ${delivery.message}; ${this.spool.entries().length} reports stay spooled for the next cycle`,
        );
        return undefined;
      }
    }
    return undefined;
  }

  /**
   * Counts a cycle against each report the hub failed on while it took others (a hub failing on every report is
   * down, and counts nothing), and moves one counted `maxServerFailures` times to `rejected/`.
   */
  private countServerFailures(): void {
    const o = this.options;
    const failed = [...this.failedThisCycle.values()];
    this.failedThisCycle = new Map();
    if (!this.tookThisCycle) return;
    const max = o.maxServerFailures ?? DEFAULT_MAX_SERVER_FAILURES;
    for (const { entry, status, message } of failed) {
      const label = `${entry.command} report ${entry.reportId}`;
      let cycles: number;
      try {
        cycles = this.spool.recordServerFailure(entry);
      } catch (error) {
        o.log(`cannot count the hub's failure on ${label}: ${(error as Error).message}`);
        continue;
      }
      if (cycles < max) {
        o.log(`${label} failed on the hub (${cycles} of ${max} cycles): ${message}`);
        continue;
      }
      this.settle(
        () => this.spool.reject(entry, status, `${message} (the hub failed on it in ${cycles} cycles)`),
        label,
        'sent again next time',
      );
      o.log(
        `${label} failed on the hub in ${cycles} cycles (${message}); kept in ${o.folder.rejected}, ${this.spool.counters().rejected} rejected in all`,
      );
    }
  }

  /** Takes a delivered report out of the spool; when the folder refuses, says what follows instead of failing. */
  private settle(move: () => void, label: string, consequence: string): void {
    try {
      move();
    } catch (error) {
      this.options.log(
        `cannot take ${label} out of the spool (${(error as Error).message}): it will be ${consequence}`,
      );
    }
  }
}
