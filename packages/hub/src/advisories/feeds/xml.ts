/** @module XML 1.0 text and attribute values from any string staff typed: always well-formed. */

/**
 * Code units XML 1.0 forbids (section 2.2, `Char`): C0 controls other than tab, newline and carriage return,
 * U+FFFE and U+FFFF, and surrogates not part of a pair (the `u` flag matches only lone ones).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the control characters XML forbids is the point
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/gu;

/** `text` without the characters XML 1.0 forbids (dropped, not replaced). */
export function xmlSafe(text: string): string {
  return text.replace(FORBIDDEN, '');
}

/** `text` as XML character data: forbidden characters dropped, `&`, `<` and `>` escaped (so `]]>` never appears). */
export function escapeText(text: string): string {
  return xmlSafe(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * `text` as a quoted XML (or HTML) attribute value: as `escapeText`, plus both quotes, and tab, newline and
 * carriage return as character references so attribute-value normalisation keeps them.
 */
export function escapeAttribute(text: string): string {
  return escapeText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** The attributes ` name="value"` of `attributes` in their order, leaving out undefined values. */
export function attributes(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join('');
}

/** An element holding only escaped text: `<name attr="...">text</name>`. */
export function textElement(
  name: string,
  text: string,
  values: Record<string, string | number | undefined> = {},
): string {
  return `<${name}${attributes(values)}>${escapeText(text)}</${name}>`;
}

/** An empty element: `<name attr="..."/>`. */
export function emptyElement(name: string, values: Record<string, string | number | undefined>): string {
  return `<${name}${attributes(values)}/>`;
}
