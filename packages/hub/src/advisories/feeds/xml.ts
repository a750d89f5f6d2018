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

/**
 * `text` as XML character data, also fit for HTML text: forbidden characters dropped, `&`, `<` and `>` escaped (so
 * `]]>` never appears), and both quotes, so no escaped text reads like an attribute to a careless consumer.
 */
export function escapeText(text: string): string {
  return xmlSafe(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * `text` as plain-text character data for elements whose readers may take it for HTML (RSS titles): `&`, `<` and
 * `>` as the hexadecimal references the RSS Best Practices Profile recommends, read literally by the most readers.
 */
export function escapePlainText(text: string): string {
  return xmlSafe(text).replace(/&/g, '&#x26;').replace(/</g, '&#x3C;').replace(/>/g, '&#x3E;');
}

/**
 * `text` as a quoted XML (or HTML) attribute value: as `escapeText`, plus tab, newline and carriage return as
 * character references so attribute-value normalisation keeps them.
 */
export function escapeAttribute(text: string): string {
  return escapeText(text).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

/** The attributes ` name="value"` of `attributes` in their order, leaving out undefined values. */
export function attributes(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join('');
}

/** An element holding only escaped text: `<name attr="...">text</name>` (`plain`: with escapePlainText). */
export function textElement(
  name: string,
  text: string,
  values: Record<string, string | number | undefined> = {},
  as: 'markup' | 'plain' = 'markup',
): string {
  return `<${name}${attributes(values)}>${as === 'plain' ? escapePlainText(text) : escapeText(text)}</${name}>`;
}

/** An empty element: `<name attr="..."/>`. */
export function emptyElement(name: string, values: Record<string, string | number | undefined>): string {
  return `<${name}${attributes(values)}/>`;
}
