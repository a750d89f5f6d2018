/** @module The one place a report's envelope is made, for scan, inventory and hunt alike. */
import { randomUUID } from 'node:crypto';
import { type Finding, findingOnHost } from '../core/finding.js';
import type { HostInfo, Report } from '../core/report.js';
import { readHostIdentity } from './host-identity.js';

export interface ReportStart {
  command: Report['command'];
  toolVersion: string;
  /** When the run began (default: now). */
  startedAt?: Date;
  /** Root of a mounted image: the report describes the imaged system, read from the image alone. */
  imageRoot?: string;
  /** An id kept by the agent, used when the machine has none of its own. */
  keptHostId?: string;
}

/** What a command found; the builder adds identity, times, outcome and duration. */
export interface ReportParts {
  scope: Report['scope'];
  packs: Report['packs'];
  coverage: Report['coverage'];
  inventory: Report['inventory'];
  /** As collectors and matchers made them; the builder ties their fingerprints to the host. */
  findings: readonly Finding[];
  hunt?: Report['hunt'];
  facts?: Report['facts'];
  /** Counters the command keeps; the rest are 0, `durationMs` is measured. */
  stats?: Partial<Omit<Report['stats'], 'durationMs'>>;
}

/** A report being made: the host is known from the start, so findings can be streamed as reports carry them. */
export class ReportBuilder {
  private constructor(
    private readonly start: ReportStart & { startedAt: Date },
    /** The machine the report describes. */
    readonly host: HostInfo,
  ) {}

  /** Reads the host's identity (from the image with `imageRoot`) and starts the report's clock. */
  static async begin(start: ReportStart): Promise<ReportBuilder> {
    const startedAt = start.startedAt ?? new Date();
    const host = await readHostIdentity({
      ...(start.imageRoot === undefined ? {} : { imageRoot: start.imageRoot }),
      ...(start.keptHostId === undefined ? {} : { keptHostId: start.keptHostId }),
    });
    return new ReportBuilder({ ...start, startedAt }, host);
  }

  /** A finding as this report carries it (its fingerprint tied to the host), for streaming before `finish`. */
  finding(finding: Finding): Finding {
    return findingOnHost(finding, this.host.hostId);
  }

  /** The finished report: complete unless some coverage is partial. */
  finish(parts: ReportParts): Report {
    const finishedAt = new Date();
    const { startedAt } = this.start;
    return {
      schemaVersion: 1,
      reportId: randomUUID(),
      tool: { name: 'chainsweep', version: this.start.toolVersion },
      command: this.start.command,
      host: this.host,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      outcome: parts.coverage.some((c) => c.outcome === 'partial') ? 'partial' : 'complete',
      scope: parts.scope,
      packs: parts.packs,
      coverage: parts.coverage,
      inventory: parts.inventory,
      findings: parts.findings.map((f) => this.finding(f)),
      ...(parts.hunt ? { hunt: parts.hunt } : {}),
      ...(parts.facts ? { facts: parts.facts } : {}),
      stats: {
        files: 0,
        bytes: 0,
        yaraFiles: 0,
        yaraBytes: 0,
        skipped: {},
        ...parts.stats,
        durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
      },
    };
  }
}
