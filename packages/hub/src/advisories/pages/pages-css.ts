/** @module The advisory pages' one stylesheet, served from the hub (its CSP allows no inline style). */

import { createHash } from 'node:crypto';

/** Light and dark by `prefers-color-scheme`; one column down to 320 px; diff marks that also read without colour. */
export const PAGES_CSS = `:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1c1c21; --muted: #5b5b66; --line: #d5d5dd; --panel: #f3f3f6; --link: #0b57d0;
  --ins-bg: #dafbe1; --ins-fg: #0b4a1e; --del-bg: #ffe4e1; --del-fg: #7d0a1c;
  --low: #1d6b2f; --medium: #8a5a00; --high: #b3400b; --critical: #b00020;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #131316; --fg: #e8e8ee; --muted: #a6a6b3; --line: #3b3b46; --panel: #1f1f25; --link: #8ab4f8;
    --ins-bg: #10361c; --ins-fg: #b4f5c0; --del-bg: #4b151b; --del-fg: #ffd9d4;
    --low: #7bd88f; --medium: #f0c05a; --high: #ff9f6b; --critical: #ff7b8a;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 1rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  overflow-wrap: break-word;
}
header, main, footer { max-width: 62rem; margin: 0 auto; padding: 0 1rem; }
header { border-bottom: 1px solid var(--line); }
header nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: 0; padding: .75rem 0; }
header nav li:first-child { font-weight: 600; margin-right: auto; }
footer { border-top: 1px solid var(--line); color: var(--muted); font-size: .9rem; margin-top: 3rem; }
a { color: var(--link); }
a:focus-visible, [tabindex]:focus-visible { outline: 2px solid var(--link); outline-offset: 2px; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 1.5rem 0 .75rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3, h4, h5, h6 { font-size: 1.05rem; margin: 1.25rem 0 .4rem; }
code, pre, .digest { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .9em; }
code { background: var(--panel); padding: 0 .2em; border-radius: .2em; }
pre { background: var(--panel); padding: .75rem; overflow-x: auto; border-radius: .3rem; }
pre code { background: none; padding: 0; }
.digest { overflow-wrap: anywhere; word-break: break-all; }
.summary { font-size: 1.1rem; }
.notice { border-left: .3rem solid var(--link); background: var(--panel); padding: .6rem 1rem; margin: 1rem 0; }
.muted { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.badge {
  display: inline-block; padding: 0 .45em; border: 1px solid currentColor; border-radius: .25em;
  font-size: .85em; font-weight: 600; letter-spacing: .02em; text-transform: uppercase; white-space: nowrap;
}
.severity-low { color: var(--low); }
.severity-medium { color: var(--medium); }
.severity-high { color: var(--high); }
.severity-critical { color: var(--critical); }
.tlp { background: #000000; border-color: #000000; }
.tlp-white { color: #ffffff; }
.tlp-green { color: #33ff00; }
.tlp-amber { color: #ffc000; }
.tlp-red { color: #ff2b2b; }
.table-wrap { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
thead th { border-bottom-width: 2px; white-space: nowrap; }
ins { background: var(--ins-bg); color: var(--ins-fg); text-decoration: none; }
del { background: var(--del-bg); color: var(--del-fg); text-decoration: line-through; }
ins, del { padding: 0 .2rem; }
ul.changes ins, ul.changes del, .line-diff ins, .line-diff del { display: block; }
.mark { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 700; text-decoration: none; display: inline-block; }
ul.changes { list-style: none; padding: 0; margin: .25rem 0 1rem; }
ul.changes li { margin: .15rem 0; }
.line-diff td { padding: 0 .4rem; border-bottom: none; }
.line-diff .num { color: var(--muted); text-align: right; width: 1%; white-space: nowrap; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; }
.line-diff .text { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; white-space: pre-wrap; overflow-wrap: anywhere; }
.line-diff .skipped td { color: var(--muted); background: var(--panel); font-style: italic; padding: .2rem .4rem; }
@media (max-width: 40rem) {
  h1 { font-size: 1.35rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .4rem; }
  th, td { padding: .35rem .4rem; }
}
@media print {
  header nav, footer { display: none; }
  a { color: inherit; }
}
`;

/** The stylesheet's path, with a digest of its text so a changed stylesheet is fetched again despite caching. */
export const PAGES_CSS_HREF = `/advisories/pages.css?v=${createHash('sha256').update(PAGES_CSS).digest('hex').slice(0, 12)}`;
