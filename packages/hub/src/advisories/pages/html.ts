/** @module Building HTML where every interpolated value is escaped unless it is markup made here. */

import { renderMarkdown } from '../markdown.js';

/** Markup that may go into a page as it is; only this module makes it (templates, Markdown, links). */
class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

export type { SafeHtml };

/** What a template may interpolate: text (escaped), markup made here, nothing, or a list of those. */
export type Interpolation = SafeHtml | string | number | undefined | null | false | readonly Interpolation[];

const SPECIAL: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
/** Characters HTML forbids in a document (C0 and C1 controls but tab and newlines, non-characters, lone surrogates). */
const FORBIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters replaced
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with forbidden characters replaced by U+FFFD, so any parser reads the document the same way. */
function withoutForbidden(text: string): string {
  return text.replace(FORBIDDEN, '\uFFFD');
}

/** `value` as HTML text or as a double- or single-quoted attribute value: `& < > " '` escaped. */
export function escapeHtml(value: string): string {
  return withoutForbidden(value).replace(/[&<>"']/g, (c) => SPECIAL[c] as string);
}

/** A template of markup: each interpolation escaped, unless it is SafeHtml; lists joined, nothing for empty values. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let markup = strings[0] as string;
  values.forEach((value, index) => {
    markup += interpolate(value) + (strings[index + 1] as string);
  });
  return new SafeHtml(markup);
}

function interpolate(value: Interpolation): string {
  if (value instanceof SafeHtml) return value.markup;
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(interpolate).join('');
  return escapeHtml(String(value));
}

/** Where a link may point: an http(s) URL, or a path on the hub (one `/`, not `//` or `/\`). */
const WEB_URL = /^https?:\/\//i;
const HUB_PATH = /^\/(?![/\\])/;
const HUB_ORIGIN = 'http://hub.invalid';

/**
 * The normalised target of a link to `url`, or undefined when it may not be a link (any other scheme, a
 * protocol-relative URL, one that does not parse). Normalised means percent-encoded, so no quote or space is left.
 */
export function safeHref(url: string): string | undefined {
  const trimmed = url.trim();
  try {
    if (WEB_URL.test(trimmed)) {
      const parsed = new URL(trimmed);
      return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
    }
    if (HUB_PATH.test(trimmed)) {
      const parsed = new URL(trimmed, HUB_ORIGIN);
      return parsed.origin === HUB_ORIGIN ? parsed.pathname + parsed.search + parsed.hash : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** A link to `url` showing `content`; only `content` (no link) when `url` may not be a link. */
export function link(url: string, content: Interpolation): SafeHtml {
  const href = safeHref(url);
  return href === undefined ? html`${content}` : html`<a href="${href}">${content}</a>`;
}

/**
 * Markdown rendered inert (`renderMarkdown`), its headings moved so the highest one it uses becomes `topLevel`
 * (never up, at most `h6`): they then nest under the page's own headings.
 */
export function markdownHtml(markdown: string, topLevel = 1): SafeHtml {
  const rendered = renderMarkdown(withoutForbidden(markdown));
  let highest = 7;
  for (const match of rendered.matchAll(/<h([1-6])>/g)) highest = Math.min(highest, Number(match[1]));
  const shift = highest < 7 ? Math.max(0, topLevel - highest) : 0;
  if (!shift) return new SafeHtml(rendered);
  return new SafeHtml(
    rendered.replace(
      /<(\/?)h([1-6])>/g,
      (_, slash: string, level: string) => `<${slash}h${Math.min(6, Number(level) + shift)}>`,
    ),
  );
}
