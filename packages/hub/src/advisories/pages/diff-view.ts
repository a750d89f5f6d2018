/** @module What changed between two revisions of an advisory: field by field, and the body line by line. */

import type {
  AdvisoryContent,
  AdvisoryProduct,
  PackLink,
  PublishedAdvisory,
  PublishedRevision,
} from '../model.js';
import { advisoryPaths } from '../urls.js';
import { html, link, type SafeHtml } from './html.js';
import { type PageContent, scrollingTable, time } from './layout.js';
import { type DiffLine, diffLines, hunksOf, splitLines } from './revision-diff.js';

/** Kept lines shown around each change of the body. */
const BODY_CONTEXT = 3;

/** One field compared: its label and the diff of its values, one line per value (a list field, one per item). */
interface FieldDiff {
  label: string;
  lines: DiffLine[];
}

/** The page comparing revision `from` with the later revision `to` of `advisory`. */
export function revisionDiffPage(
  advisory: PublishedAdvisory,
  from: PublishedRevision,
  to: PublishedRevision,
): PageContent {
  const fields = fieldDiffs(from.content, to.content, advisory.packs);
  const changed = fields.filter((f) => changedIn(f.lines));
  const body = diffLines(splitLines(from.content.body), splitLines(to.content.body));
  const bodyChanged = changedIn(body);
  const names = [...changed.map((f) => f.label), ...(bodyChanged ? ['Details'] : [])];
  const between = advisory.revisions.filter((r) => r.number > from.number && r.number <= to.number);
  const main = html`<h1>What changed in ${to.content.title}</h1>
<p>From ${link(advisoryPaths.revision(advisory.slug, from.number), `revision ${from.number}`)} (${time(from.at)})
to ${link(advisoryPaths.revision(advisory.slug, to.number), `revision ${to.number}`)} (${time(to.at)})
of <code>${advisory.trackingId}</code>; ${link(advisoryPaths.page(advisory.slug), 'the current revision')}.
Removed text is marked <del><span class="mark">-</span> like this</del>, added text <ins><span class="mark">+</span> like this</ins>.</p>
<p><strong>${names.length ? `Changed: ${names.join(', ')}.` : 'Nothing changed.'}</strong></p>
<section aria-labelledby="revisions">
<h2 id="revisions">Revisions since revision ${from.number}</h2>
<ol>
${between.map((r) => html`<li value="${r.number}">${time(r.at)}, ${r.author.name}: ${r.summary}</li>\n`)}</ol>
</section>
${fields.map(fieldSection)}
${bodySection(body, bodyChanged)}`;
  return { title: `Changes to ${to.content.title}: revision ${from.number} to ${to.number}`, main };
}

function changedIn(lines: readonly DiffLine[]): boolean {
  return lines.some((l) => l.op !== 'equal');
}

/** Every field but the body, each as lines of text (a product, a reference, a pack, a step: one line each). */
function fieldDiffs(
  before: AdvisoryContent,
  after: AdvisoryContent,
  packs: readonly PackLink[],
): FieldDiff[] {
  const field = (label: string, of: (content: AdvisoryContent) => string[]): FieldDiff => ({
    label,
    lines: diffLines(of(before), of(after)),
  });
  const packName = (packId: string, sequence: number) => {
    const title = packs.find((p) => p.packId === packId && p.sequence === sequence)?.title;
    return `${packId} #${sequence}${title ? `: ${title}` : ''}`;
  };
  return [
    field('Title', (c) => [c.title]),
    field('Severity', (c) => [c.severity]),
    field('Status', (c) => [c.status]),
    field('TLP', (c) => [`TLP:${c.tlp}`]),
    field('CVE', (c) => [...c.cves]),
    field('Summary', (c) => [c.summary]),
    field('Affected products', (c) => c.products.map(productLine)),
    field('Remediation', (c) => [...c.remediation]),
    field('References', (c) => c.references.map((r) => `${r.summary} <${r.url}>`)),
    field('Signed packs', (c) => c.packs.map((p) => packName(p.packId, p.sequence))),
  ];
}

function productLine(p: AdvisoryProduct): string {
  const versions = (list: readonly string[]) => (list.length ? list.join(', ') : 'none');
  return `${p.vendor} ${p.product} (${p.platforms.join(', ') || 'any platform'}): affected ${versions(p.affected)}; fixed ${versions(p.fixed)}`;
}

function fieldSection(field: FieldDiff): SafeHtml {
  const id = `field-${field.label.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  const changed = changedIn(field.lines);
  const content = field.lines.length
    ? html`<ul class="changes">\n${field.lines.map((l) => html`<li>${changeLine(l)}</li>\n`)}</ul>`
    : html`<p class="muted">None in either revision.</p>`;
  return html`<section aria-labelledby="${id}">
<h2 id="${id}">${field.label} <span class="muted">(${changed ? 'changed' : 'unchanged'})</span></h2>
${content}
</section>
`;
}

/** One line, marked `-` (removed) or `+` (added) in text as well as by `<del>` and `<ins>`. */
function changeLine(line: DiffLine): SafeHtml {
  if (line.op === 'insert') return html`<ins><span class="mark">+</span> ${line.text}</ins>`;
  if (line.op === 'delete') return html`<del><span class="mark">-</span> ${line.text}</del>`;
  return html`<span class="mark">&nbsp;</span> ${line.text}`;
}

function bodySection(diff: readonly DiffLine[], changed: boolean): SafeHtml {
  const { hunks, skippedAfter } = hunksOf(diff, BODY_CONTEXT);
  const skippedRow = (count: number) =>
    count
      ? html`<tr class="skipped"><td colspan="3">${count} unchanged line${count === 1 ? '' : 's'}</td></tr>\n`
      : '';
  const rows = hunks.map((hunk) => [
    skippedRow(hunk.skippedBefore),
    hunk.lines.map(
      (l) =>
        html`<tr><td class="num">${l.op === 'insert' ? '' : l.oldLine}</td><td class="num">${l.op === 'delete' ? '' : l.newLine}</td><td class="text">${changeLine(l)}</td></tr>\n`,
    ),
  ]);
  const table = html`<table class="line-diff">
<caption>The Markdown source, line by line</caption>
<thead><tr><th scope="col">Before</th><th scope="col">After</th><th scope="col">Line</th></tr></thead>
<tbody>
${rows}${skippedRow(skippedAfter)}</tbody>
</table>`;
  return html`<section aria-labelledby="field-details">
<h2 id="field-details">Details <span class="muted">(${changed ? 'changed' : 'unchanged'})</span></h2>
${changed ? scrollingTable('Changes to the details', table) : html`<p class="muted">The text is the same in both revisions.</p>`}
</section>`;
}
