import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ago, shown, when } from '../format.js';
import { ScrollTable, Show, useLoad } from '../load.js';
import { type HostSummary, StateBadge } from './hosts.js';

interface Finding {
  id: string;
  kind: string;
  indicatorId: string;
  packId: string;
  severity: string;
  title: string;
  subject: Record<string, unknown>;
  evidence: Record<string, unknown>;
  observedAt: string;
}
interface HostDetail extends HostSummary {
  inventory: { name: string; version: string; source: string; location?: string }[];
  verdicts: { app: number; packId: string; verdict: string; product?: string }[];
  findings: Finding[];
  huntHits: Finding[];
  reports: { id: string; command: string; receivedAt: string; outcome: string; findings: number }[];
  remediation: {
    commands: string[];
    notes: string[];
    installs: { product: string; version: string; location: string; action: string }[];
  };
  stateHistory: { at: string; from: string | null; to: string }[];
}

/** One host: its state and why, the remediation plan to copy, inventory with verdicts, findings, hunt hits, history. */
export function HostPage({ id }: { id: string }) {
  const loaded = useLoad(() => api<HostDetail>('GET', `/api/v1/hosts/${encodeURIComponent(id)}`), id);
  return (
    <Show loaded={loaded}>
      {(host) => (
        <>
          <h1>
            {shown(host.hostname)} <StateBadge state={host.state} />
          </h1>
          <p class="muted">
            {shown(host.os) || 'unknown OS'} · host id <span class="mono">{shown(host.hostId)}</span> · last
            report {ago(host.lastReportAt)} · {host.state} since {when(host.stateSince)}
          </p>
          <section aria-labelledby="plan">
            <h2 id="plan">Remediation plan</h2>
            {host.remediation.commands.length === 0 ? (
              <p>Nothing to remove on this host.</p>
            ) : (
              <>
                <p>Run on the host, as an administrator:</p>
                {host.remediation.commands.map((command) => (
                  <CopyCommand key={command} command={command} />
                ))}
              </>
            )}
            {host.remediation.installs.length > 0 && (
              <ul>
                {host.remediation.installs.map((i) => (
                  <li key={i.location}>
                    {shown(i.product)} {shown(i.version)} at <span class="mono">{shown(i.location)}</span> (
                    {i.action})
                  </li>
                ))}
              </ul>
            )}
            {host.remediation.notes.map((note) => (
              <p key={note} class="warn">
                {note}
              </p>
            ))}
          </section>
          <section aria-labelledby="inventory">
            <h2 id="inventory">Inventory</h2>
            <ScrollTable label="Inventory">
              <thead>
                <tr>
                  <th scope="col">App</th>
                  <th scope="col">Version</th>
                  <th scope="col">Source</th>
                  <th scope="col">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {host.inventory.map((app, index) => {
                  const verdict = host.verdicts.find((v) => v.app === index);
                  return (
                    <tr
                      key={`${app.name}-${index}`}
                      class={verdict?.verdict === 'affected' ? 'row-affected' : undefined}
                    >
                      <td>{shown(app.name)}</td>
                      <td class="mono">{shown(app.version)}</td>
                      <td>{shown(app.source)}</td>
                      <td>{verdict ? `${verdict.verdict} (${verdict.packId})` : '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </ScrollTable>
          </section>
          <section aria-labelledby="findings">
            <h2 id="findings">Findings ({host.findings.length})</h2>
            {host.findings.length === 0 ? (
              <p>No current finding.</p>
            ) : (
              <FindingList findings={host.findings} />
            )}
          </section>
          <section aria-labelledby="hunt">
            <h2 id="hunt">Hunt hits ({host.huntHits.length})</h2>
            {host.huntHits.length === 0 ? (
              <p>No log shows this host contacting an indicator.</p>
            ) : (
              <ol class="timeline">
                {[...host.huntHits]
                  .sort((a, b) => a.observedAt.localeCompare(b.observedAt))
                  .map((hit) => (
                    <li key={hit.id}>
                      <time dateTime={hit.observedAt}>{when(hit.observedAt)}</time> {shown(hit.title)}{' '}
                      <span class="mono">
                        {shown(String(hit.subject.value ?? hit.subject.host ?? hit.indicatorId))}
                      </span>
                    </li>
                  ))}
              </ol>
            )}
          </section>
          <section aria-labelledby="history">
            <h2 id="history">Reports and state history</h2>
            <ul class="plain">
              {host.stateHistory.map((s) => (
                <li key={s.at + s.to}>
                  {when(s.at)}: {s.from ?? 'new'} → {s.to}
                </li>
              ))}
            </ul>
            <ScrollTable label="Reports">
              <thead>
                <tr>
                  <th scope="col">Received</th>
                  <th scope="col">Command</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Findings</th>
                </tr>
              </thead>
              <tbody>
                {host.reports.map((r) => (
                  <tr key={r.id}>
                    <td>{when(r.receivedAt)}</td>
                    <td>{r.command}</td>
                    <td>{r.outcome}</td>
                    <td>{r.findings}</td>
                  </tr>
                ))}
              </tbody>
            </ScrollTable>
          </section>
        </>
      )}
    </Show>
  );
}

function FindingList({ findings }: { findings: Finding[] }) {
  return (
    <ul class="findings">
      {findings.map((f) => (
        <li key={f.id}>
          <strong>{shown(f.title)}</strong> <span class={`badge sev-${f.severity}`}>{f.severity}</span>
          <div class="muted">
            {f.kind} indicator <span class="mono">{f.indicatorId}</span> of pack {f.packId}
          </div>
          <details>
            <summary>Evidence</summary>
            <pre>{shown(JSON.stringify({ subject: f.subject, evidence: f.evidence }, null, 2))}</pre>
          </details>
        </li>
      ))}
    </ul>
  );
}

/** A command in a box, with a button that copies it. */
function CopyCommand({ command }: { command: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard?.writeText(command).catch(() => undefined);
    setCopied(true);
  };
  return (
    <div class="command">
      <code>{command}</code>
      <button type="button" onClick={copy} aria-label={`Copy: ${command}`}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
