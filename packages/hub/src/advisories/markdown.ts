import MarkdownIt from 'markdown-it';

/** Link targets a rendered link may have: web and mail URLs, and paths or fragments on the hub itself. */
const SAFE_LINK = /^(https?:\/\/|mailto:|\/(?!\/)|#)/i;

/**
 * Markdown as staff write it, rendered inert: raw HTML is shown as text (never passed through), a link keeps its
 * target only when SAFE_LINK allows it (no `javascript:`, `data:` or `vbscript:`), and images are not rendered
 * (no remote fetch from a reader's browser or feed reader), their alternative text stays.
 */
const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
md.validateLink = (url) => SAFE_LINK.test(url.trim());
md.renderer.rules.image = (tokens, index) => md.utils.escapeHtml(tokens[index]?.content ?? '');

/** The HTML of `markdown` (a fragment; block elements, escaped text). */
export function renderMarkdown(markdown: string): string {
  return md.render(markdown);
}

/** The HTML of one line of `markdown` (no enclosing paragraph). */
export function renderMarkdownInline(markdown: string): string {
  return md.renderInline(markdown);
}
