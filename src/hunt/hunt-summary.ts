/** @module The bounded answer of a hunt: per-client aggregates and the listed hits, however many hits there are. */
import { type Finding, fingerprint } from '../core/finding.js';
import type { PackedIndicator } from '../core/intel.js';
import type { Report } from '../core/report.js';
import { SEVERITIES, severityRank } from '../core/severity.js';
import type { LogFormat } from './log-formats.js';
import type { LogHit } from './scan-log.js';

/** Clients tracked one by one; hits of any further client go to one `(other clients)` entry. */
export const MAX_CLIENTS = 100_000;
/** Distinct indicators listed per client. */
const MAX_CLIENT_INDICATORS = 100;
const OTHER_CLIENTS = '(other clients)';

interface ClientSummary {
  firstSeen?: string;
  lastSeen?: string;
  hits: number;
  indicators: Set<string>;
  moreIndicators: boolean;
}

/**
 * Folds hits into per-client aggregates (at most MAX_CLIENTS, each listing at most 100 indicators) and a list of
 * at most `limit` findings, the most severe kept first; every other hit is counted in `unlisted`.
 */
export class HuntSummary {
  private readonly clients = new Map<string, ClientSummary>();
  private readonly kept: Finding[][] = SEVERITIES.map(() => []);
  private size = 0;
  unlisted = 0;

  constructor(private readonly limit: number) {}

  /** Adds one log's hits; returns them as findings when `all`, else only those the list keeps. */
  add(file: string, format: LogFormat, hits: readonly LogHit[], all: boolean): Finding[] {
    const out: Finding[] = [];
    for (const hit of hits) {
      this.count(hit);
      const rank = severityRank(hit.indicator.severity);
      const keep = this.size < this.limit || rank < this.leastSevereKept();
      if (!keep) this.unlisted++;
      if (!keep && !all) continue;
      const finding = toFinding(file, format, hit);
      if (all) out.push(finding);
      if (keep) this.keep(finding, rank);
    }
    return out;
  }

  /** The listed findings, most severe first, then by time, file and line. */
  findings(): Finding[] {
    return this.kept
      .flat()
      .sort(
        (a, b) =>
          severityRank(a.severity) - severityRank(b.severity) ||
          (a.subject.log?.timestamp ?? '').localeCompare(b.subject.log?.timestamp ?? '') ||
          (a.subject.log?.file ?? '').localeCompare(b.subject.log?.file ?? '') ||
          (a.subject.log?.line ?? 0) - (b.subject.log?.line ?? 0),
      );
  }

  /** Per client: first and last seen, hits and indicators, earliest first. */
  clientList(): NonNullable<Report['hunt']>['clients'] {
    return [...this.clients]
      .map(([client, c]) => ({
        client,
        ...(c.firstSeen ? { firstSeen: c.firstSeen } : {}),
        ...(c.lastSeen ? { lastSeen: c.lastSeen } : {}),
        hits: c.hits,
        indicators: [
          ...[...c.indicators].sort(),
          ...(c.moreIndicators ? [`(more than ${MAX_CLIENT_INDICATORS} indicators)`] : []),
        ],
      }))
      .sort(
        (a, b) => (a.firstSeen ?? '~').localeCompare(b.firstSeen ?? '~') || a.client.localeCompare(b.client),
      );
  }

  private count(hit: LogHit): void {
    let name = hit.client ?? '(unknown)';
    let client = this.clients.get(name);
    if (!client) {
      if (this.clients.size >= MAX_CLIENTS) name = OTHER_CLIENTS;
      client = this.clients.get(name) ?? { hits: 0, indicators: new Set(), moreIndicators: false };
      this.clients.set(name, client);
    }
    client.hits++;
    const value = hit.indicator.value;
    if (client.indicators.size < MAX_CLIENT_INDICATORS) client.indicators.add(value);
    else if (!client.indicators.has(value)) client.moreIndicators = true;
    if (hit.timestamp) {
      if (!client.firstSeen || hit.timestamp < client.firstSeen) client.firstSeen = hit.timestamp;
      if (!client.lastSeen || hit.timestamp > client.lastSeen) client.lastSeen = hit.timestamp;
    }
  }

  private leastSevereKept(): number {
    for (let rank = this.kept.length - 1; rank >= 0; rank--) if (this.kept[rank]?.length) return rank;
    return -1;
  }

  private keep(finding: Finding, rank: number): void {
    if (this.size >= this.limit) {
      this.kept[this.leastSevereKept()]?.pop();
      this.size--;
      this.unlisted++;
    }
    this.kept[rank]?.push(finding);
    this.size++;
  }
}

function toFinding(file: string, format: LogFormat, hit: LogHit): Finding {
  const i: PackedIndicator = hit.indicator;
  return {
    fingerprint: fingerprint(i.packId, i.id, `${file}:${hit.line}`),
    kind: i.kind,
    indicatorId: i.id,
    packId: i.packId,
    severity: i.severity,
    confidence: i.confidence,
    title: i.title,
    subject: {
      log: {
        file,
        line: hit.line,
        format,
        seen: hit.seen,
        ...(hit.timestamp ? { timestamp: hit.timestamp } : {}),
        ...(hit.client ? { client: hit.client } : {}),
        ...(hit.field ? { field: hit.field } : {}),
      },
    },
    evidence: { indicator: i.value, seen: hit.seen, ...(hit.field ? { field: hit.field } : {}) },
    references: i.references,
  };
}
