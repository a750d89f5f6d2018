import { describe, expect, it } from 'vitest';
import { parseFeed, xmllint } from './test-feed-parsers.js';
import { escapeAttribute, escapeText, textElement, xmlSafe } from './xml.js';

/** Every UTF-16 code unit, each followed by `.` (so every surrogate is a lone one), then a valid pair. */
const EVERY_CODE_UNIT = `${Array.from({ length: 0x10000 }, (_, i) => `${String.fromCharCode(i)}.`).join('')}😀`;

describe('XML escaping', () => {
  it('drops exactly the characters XML 1.0 forbids', () => {
    expect(xmlSafe('a\u0000b\u0008c\u000Bd\u001Fe\uFFFEf\uFFFFg\uD800h\uDFFFi')).toBe('abcdefghi');
    expect(xmlSafe('tab\tnl\ncr\r\u0085\u00A0\uE000\uFFFD😀')).toBe(
      'tab\tnl\ncr\r\u0085\u00A0\uE000\uFFFD😀',
    );
    expect(xmlSafe('\uDBFF\uDFFF')).toBe('\uDBFF\uDFFF');
    expect(xmlSafe('\uDFFF\uD800')).toBe('');
  });

  it('escapes markup, and never lets ]]> through', () => {
    expect(escapeText(`]]><a href="x" title='y'>&amp;</a>`)).toBe(
      ']]&gt;&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
    expect(escapeAttribute(`"'<>&\t\n\r`)).toBe('&quot;&#39;&lt;&gt;&amp;&#9;&#10;&#13;');
  });

  it('writes every code unit into text and attributes as well-formed XML that reads back the allowed ones', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>\n<r>${textElement('t', EVERY_CODE_UNIT, { a: EVERY_CODE_UNIT })}</r>\n`;
    expect(xmllint(xml)).toEqual({ status: 0, output: '' });
    const element = parseFeed(xml).raw.find((e) => e.name === 't');
    const allowed = xmlSafe(EVERY_CODE_UNIT);
    expect(allowed.length).toBe(0x10000 * 2 - 29 - 2048 - 2 + 2);
    // The parser turns a text CR into LF (end-of-line handling); the attribute keeps it as a reference.
    expect(element?.text).toBe(allowed.replace(/\r/g, '\n'));
    expect(element?.attributes.a).toBe(allowed);
  });
});
