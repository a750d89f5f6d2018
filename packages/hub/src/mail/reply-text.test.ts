import { describe, expect, it } from 'vitest';
import { htmlText, replyText } from './reply-text.js';

const MARK = '##- reply above -##';

describe('the text of an emailed reply', () => {
  it('keeps a line that only looks like a header, and drops the signature and the quote', () => {
    const text = [
      'From: the logs, the beacon went to akamaicontainer.com.',
      'Date of install: 2023-03-01.',
      '',
      '-- ',
      'Ana, IT',
      '> quoted',
    ].join('\r\n');
    expect(replyText(text, MARK)).toBe(
      'From: the logs, the beacon went to akamaicontainer.com.\nDate of install: 2023-03-01.',
    );
  });

  it('cuts at Outlook’s header block and separator, and at a quoted marker', () => {
    expect(replyText('Done.\n\nFrom: Support <s@hub.test>\nSent: Friday\nold', MARK)).toBe('Done.');
    expect(replyText('Done.\n-----Original Message-----\nold', MARK)).toBe('Done.');
    expect(replyText(`Yes\n\nOn Fri, Dec 4, 2026, Support wrote:\n> ${MARK}\n> old`, MARK)).toBe('Yes');
    expect(replyText('> all quoted\n> nothing new', MARK)).toBe('');
  });

  it('reads HTML without its markup, quotes, styles or scripts', () => {
    expect(
      htmlText(
        '<style>x{}</style><script>alert(1)</script><p>a &lt;b&gt; &#x1F600; &#0; &bogus;</p><blockquote>old</blockquote>',
      ),
    ).toBe('a <b> 😀  &bogus;\n');
  });
});
