/** @module Hostile Markdown for the tests of every view that renders advisories: none may come out active. */

/** Payloads a staff account (or a stolen one) could write into a title, summary, body, step or reference. */
export const XSS_PAYLOADS: readonly string[] = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)><circle r="1"/></svg>',
  '<a href="javascript:alert(1)">x</a>',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](java\tscript:alert(1))',
  '[click](&#106;avascript:alert(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[click](vbscript:msgbox(1))',
  '![x](javascript:alert(1))',
  '![x" onerror="alert(1)](https://evil.example/x.png)',
  '<iframe src="https://evil.example"></iframe>',
  '<style>body{display:none}</style>',
  '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  ']]><script>alert(1)</script><![CDATA[',
  '<!--<script>alert(1)</script>-->',
  '<form action="https://evil.example"><input name=q></form>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<object data="https://evil.example/x.swf"></object>',
  '<base href="https://evil.example/">',
  '<meta http-equiv="refresh" content="0;url=https://evil.example">',
  '[x](https://ok.example/" onmouseover="alert(1))',
  '\u0000<script>alert(1)</script>',
];

/**
 * What an inert rendering never contains: an element that runs or loads something, an event handler attribute,
 * or a link or source with a script or data URL. Text that merely shows a payload (escaped) is fine.
 */
export const ACTIVE_MARKUP: readonly RegExp[] = [
  /<\s*(script|iframe|object|embed|svg|math|style|form|input|base|meta|link|img)\b/i,
  /<[^>]*\son[a-z]+\s*=/i,
  /(href|src|action|xlink:href)\s*=\s*["']?\s*(javascript|vbscript|data):/i,
];

/** The active markup found in `html`, if any (for a failing test's message). */
export function activeMarkupIn(html: string): string | undefined {
  for (const pattern of ACTIVE_MARKUP) {
    const match = pattern.exec(html);
    if (match) return html.slice(Math.max(0, match.index - 40), match.index + 80);
  }
  return undefined;
}
