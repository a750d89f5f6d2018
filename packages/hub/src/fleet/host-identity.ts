import { randomUUID } from 'node:crypto';
import type { Db, SqlValue } from '../store/db.js';
import { parseJson } from './rows.js';
import { type HostState, recordStateChange } from './states.js';

/** A host row as ingest needs it. */
export type HostIdentity = {
  id: string;
  org_id: string;
  claimed_host_id: string;
  hostname: string;
  state: HostState;
  last_agent_id: string | null;
  last_report_at: string | null;
  cloned: number;
};

const COLUMNS = 'id, org_id, claimed_host_id, hostname, state, last_agent_id, last_report_at, cloned';

async function insertEvent(
  tx: Db,
  host: { id: string; org_id: string },
  at: string,
  kind: string,
  detail: object,
) {
  await tx.run('INSERT INTO host_events (org_id, host_id, at, kind, detail) VALUES (?, ?, ?, ?, ?)', [
    host.org_id,
    host.id,
    at,
    kind,
    JSON.stringify(detail),
  ]);
}

/** The host an organisation knows by `claimedHostId`, made (state `new`) when it is the first word of it. */
export async function findOrCreateHost(
  tx: Db,
  input: { orgId: string; claimedHostId: string; hostname: string; at: string; enrolled?: boolean },
): Promise<HostIdentity> {
  const existing = await tx.get<HostIdentity>(
    `SELECT ${COLUMNS} FROM hosts WHERE org_id = ? AND claimed_host_id = ?`,
    [input.orgId, input.claimedHostId],
  );
  if (existing) return existing;
  const host: HostIdentity = {
    id: randomUUID(),
    org_id: input.orgId,
    claimed_host_id: input.claimedHostId,
    hostname: input.hostname,
    state: 'new',
    last_agent_id: null,
    last_report_at: null,
    cloned: 0,
  };
  await tx.run(
    `INSERT INTO hosts (id, org_id, claimed_host_id, hostname, hostname_key, enrolled_at, state, base_state, state_since)
     VALUES (?, ?, ?, ?, ?, ?, 'new', 'new', ?)`,
    [
      host.id,
      host.org_id,
      host.claimed_host_id,
      host.hostname,
      host.hostname.toLowerCase(),
      input.enrolled ? input.at : null,
      input.at,
    ],
  );
  await recordStateChange(tx, host.org_id, host.id, input.at, null, 'new', null, {});
  return host;
}

/**
 * Records an enrolment: the host appears as `new` until its first report. A host id seen before keeps its host
 * (re-enrolment is judged when the new agent reports). Call inside the enrolment's transaction.
 */
export async function noteEnrolledHost(
  tx: Db,
  input: { orgId: string; agentId: string; hostId: string; hostname: string; at: string },
): Promise<void> {
  const host = await findOrCreateHost(tx, {
    orgId: input.orgId,
    claimedHostId: input.hostId,
    hostname: input.hostname,
    at: input.at,
    enrolled: true,
  });
  await insertEvent(tx, host, input.at, 'enrolled', { agentId: input.agentId, hostname: input.hostname });
}

type AgentRow = {
  agent_id: string;
  hostname: string;
  first_report_at: string | null;
  last_report_at: string | null;
  reports: number;
};

/**
 * Judges who sent a report for `host`: the same agent as before; a new credential taking over (re-enrolment,
 * flagged `re_enrolled`); or an agent that reported for this host before coming back after another one did
 * (two machines from one image alternating: flagged `cloned`, with every agent and hostname as evidence). A
 * newer report's hostname that differs is a rename, kept in the host's events. Updates the host's agents, and
 * returns the columns of the host's row to set (its last agent, a new name), for the caller's one update of it.
 */
export async function noteReporter(
  tx: Db,
  host: HostIdentity,
  input: { agentId: string; hostname: string; at: string; reportId: string; newest: boolean },
): Promise<Record<string, SqlValue>> {
  // Every report sets the host's last agent, so a host without one has no agent rows yet.
  const agents =
    host.last_agent_id === null
      ? []
      : await tx.all<AgentRow>(
          'SELECT agent_id, hostname, first_report_at, last_report_at, reports FROM host_agents WHERE host_id = ? AND org_id = ?',
          [host.id, host.org_id],
        );
  const mine = agents.find((a) => a.agent_id === input.agentId);
  const switched = host.last_agent_id !== null && host.last_agent_id !== input.agentId;
  if (mine)
    await tx.run(
      'UPDATE host_agents SET hostname = ?, last_report_at = ?, reports = reports + 1 WHERE host_id = ? AND agent_id = ?',
      [input.hostname, input.at, host.id, input.agentId],
    );
  else
    await tx.run(
      'INSERT INTO host_agents (org_id, host_id, agent_id, hostname, first_report_at, last_report_at, reports) VALUES (?, ?, ?, ?, ?, ?, 1)',
      [host.org_id, host.id, input.agentId, input.hostname, input.at, input.at],
    );
  if (switched && mine && mine.reports > 0) {
    const everyone = [
      ...agents.filter((a) => a.agent_id !== input.agentId),
      { ...mine, hostname: input.hostname, last_report_at: input.at },
    ]
      .filter((a) => a.reports > 0 || a.agent_id === input.agentId)
      .map((a) => ({ agentId: a.agent_id, hostname: a.hostname, lastReportAt: a.last_report_at }));
    const evidence = {
      cloned: {
        agents: everyone,
        detectedAt: host.cloned ? undefined : input.at,
        lastSwitch: { from: host.last_agent_id, to: input.agentId, reportId: input.reportId, at: input.at },
      },
    };
    const previous = parseJson<{ cloned?: { detectedAt?: string } }>(
      (
        await tx.get<{ identity_evidence: string }>('SELECT identity_evidence FROM hosts WHERE id = ?', [
          host.id,
        ])
      )?.identity_evidence,
      {},
    );
    evidence.cloned.detectedAt = previous.cloned?.detectedAt ?? input.at;
    await tx.run('UPDATE hosts SET cloned = 1, identity_evidence = ? WHERE id = ?', [
      JSON.stringify(evidence),
      host.id,
    ]);
    if (!host.cloned) await insertEvent(tx, host, input.at, 'cloned', evidence.cloned);
  } else if (switched && !mine) {
    await tx.run('UPDATE hosts SET re_enrolled = 1 WHERE id = ?', [host.id]);
    await insertEvent(tx, host, input.at, 're-enrolled', {
      from: host.last_agent_id,
      to: input.agentId,
      hostname: input.hostname,
      reportId: input.reportId,
    });
  }
  const columns: Record<string, SqlValue> = { last_agent_id: input.agentId };
  if (input.newest && input.hostname !== host.hostname) {
    // A cloned pair alternates names on every report: its evidence lists both, without an event per report.
    if (!host.cloned && !(switched && mine))
      await insertEvent(tx, host, input.at, 'renamed', {
        from: host.hostname,
        to: input.hostname,
        reportId: input.reportId,
      });
    columns.hostname = input.hostname;
    columns.hostname_key = input.hostname.toLowerCase();
  }
  return columns;
}
