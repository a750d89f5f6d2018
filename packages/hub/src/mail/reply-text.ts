/** Lines that begin the quoted original in common mail clients (Outlook's separators). */
const ORIGINAL_STARTS = [/^-{3,}\s*Original Message\s*-{3,}$/i, /^_{20,}$/];
/** A client's attribution line before the quote ("On Mon, 4 Dec 2026, X wrote:"), possibly wrapped. */
const ATTRIBUTION = /^(On|Am|Le|El|Il|Op)\s.+(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:\s*$/is;

/**
 * The new text of an emailed reply: what is above the reply marker (quoted or not), else above the quoted
 * original, without the client's attribution line, trailing quoted lines or the signature. Line ends become `\n`.
 */
export function replyText(message: string, marker: string): string {
  let lines = message.replace(/\r\n?/g, '\n').split('\n');
  const markerAt = lines.findIndex((line) => line.includes(marker));
  if (markerAt >= 0) lines = lines.slice(0, markerAt);
  const originalAt = lines.findIndex(
    (line, i) =>
      ORIGINAL_STARTS.some((start) => start.test(line.trim())) ||
      (/^From: .+/.test(line) && /^(Sent|Date): .+/.test(lines[i + 1] ?? '')),
  );
  if (originalAt > 0) lines = lines.slice(0, originalAt);
  const signatureAt = lines.indexOf('-- ');
  if (signatureAt >= 0) lines = lines.slice(0, signatureAt);
  trimEnd(lines);
  while (lines.length > 0 && /^\s*>/.test(lines[lines.length - 1] as string)) {
    lines.pop();
    trimEnd(lines);
  }
  for (let join = 1; join <= 3 && join <= lines.length; join += 1) {
    if (ATTRIBUTION.test(lines.slice(-join).join(' '))) {
      lines = lines.slice(0, -join);
      break;
    }
  }
  trimEnd(lines);
  while (lines.length > 0 && (lines[0] as string).trim() === '') lines.shift();
  return lines.join('\n');
}

/** The text of an HTML-only message: quoted blocks, styles and scripts dropped, tags to line breaks or nothing. */
export function htmlText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(head|style|script|blockquote)\b[\s\S]*?<\/\1\s*>/gi, '')
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/(p|div|li|tr|h[1-6])\s*>/gi, '\n')
      .replace(/<[^>]*>/g, ''),
  )
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n');
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code =
        name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
        ? String.fromCodePoint(code)
        : '';
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}

function trimEnd(lines: string[]): void {
  while (lines.length > 0 && (lines[lines.length - 1] as string).trim() === '') lines.pop();
}
