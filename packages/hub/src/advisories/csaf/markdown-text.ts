import MarkdownIt from 'markdown-it';

type Token = ReturnType<MarkdownIt['parse']>[number];

/** Raw HTML stays text, as in the rendered pages; only web and mail link targets are kept in the text. */
const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
const SHOWN_LINK = /^(https?:\/\/|mailto:)/i;

/**
 * The plain text of `markdown` for CSAF notes and remediation details: paragraphs apart by a blank line, list
 * items as `- ` or `1. ` lines, code as it is, a link as `text (url)`, an image as its alternative text.
 */
export function markdownText(markdown: string): string {
  const blocks: string[] = [];
  const lists: { ordered: boolean; next: number }[] = [];
  let quotes = 0;
  let marker: string | undefined;
  let inListBefore = false;

  const emit = (text: string) => {
    const quote = '> '.repeat(quotes);
    const indent = '  '.repeat(Math.max(0, lists.length - 1));
    const first = `${quote}${indent}${marker ?? (lists.length ? '  ' : '')}`;
    const rest = `${quote}${indent}${lists.length ? ' '.repeat(marker?.length ?? 2) : ''}`;
    marker = undefined;
    const lines = text.split('\n').map((line, i) => `${i === 0 ? first : rest}${line}`.trimEnd());
    const inList = lists.length > 0;
    const separator = blocks.length === 0 ? '' : inList && inListBefore ? '\n' : '\n\n';
    blocks.push(separator + lines.join('\n'));
    inListBefore = inList;
  };

  for (const token of md.parse(markdown, {})) {
    switch (token.type) {
      case 'bullet_list_open':
        lists.push({ ordered: false, next: 1 });
        break;
      case 'ordered_list_open':
        lists.push({ ordered: true, next: Number(token.attrGet('start') ?? 1) });
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        lists.pop();
        if (lists.length === 0) inListBefore = false;
        break;
      case 'list_item_open': {
        const list = lists.at(-1);
        if (list) marker = list.ordered ? `${list.next++}. ` : '- ';
        break;
      }
      case 'blockquote_open':
        quotes++;
        break;
      case 'blockquote_close':
        quotes--;
        break;
      case 'inline':
        emit(inlineText(token.children ?? []));
        break;
      case 'fence':
      case 'code_block':
        emit(token.content.replace(/\n$/, ''));
        break;
    }
  }
  return blocks.join('').trim();
}

function inlineText(children: Token[]): string {
  let text = '';
  const links: { href: string; start: number }[] = [];
  for (const child of children) {
    switch (child.type) {
      case 'text':
      case 'code_inline':
      case 'image':
        text += child.content;
        break;
      case 'softbreak':
      case 'hardbreak':
        text += '\n';
        break;
      case 'link_open':
        links.push({ href: child.attrGet('href') ?? '', start: text.length });
        break;
      case 'link_close': {
        const link = links.pop();
        if (link && SHOWN_LINK.test(link.href) && text.slice(link.start) !== link.href)
          text += ` (${link.href})`;
        break;
      }
    }
  }
  return text;
}
