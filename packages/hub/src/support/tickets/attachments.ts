import { HttpError } from '../../http/http-error.js';
import { ATTACHMENT_LIMITS } from './rules.js';
import type { Upload } from './tickets.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * An uploaded file name made safe to store and show: no path, no control or bidi characters, no leading dots,
 * at most 200 characters; `attachment` when nothing is left.
 */
export function sanitiseName(name: string): string {
  const last = name.normalize('NFC').split(/[/\\]/).pop() ?? '';
  const clean = last
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 200);
  return clean.length > 0 ? clean : 'attachment';
}

/** The attachments of a message body (`[{ name, contentBase64 }]`): 400 naming the field, 413 over the limits. */
export function uploadsField(value: unknown): Upload[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > ATTACHMENT_LIMITS.files)
    throw new HttpError(400, 'INVALID', `attachments must be a list of at most ${ATTACHMENT_LIMITS.files}`, {
      field: 'attachments',
    });
  let total = 0;
  return value.map((item, i) => {
    const field = `attachments[${i}]`;
    if (typeof item !== 'object' || item === null || typeof item.name !== 'string' || item.name.length > 1000)
      throw new HttpError(400, 'INVALID', `${field}.name must be a file name`, { field: `${field}.name` });
    const content = item.contentBase64;
    if (typeof content !== 'string' || content.length % 4 !== 0 || !BASE64.test(content))
      throw new HttpError(400, 'INVALID', `${field}.contentBase64 must be base64`, {
        field: `${field}.contentBase64`,
      });
    const bytes = Buffer.from(content, 'base64');
    total += bytes.length;
    if (bytes.length > ATTACHMENT_LIMITS.fileBytes || total > ATTACHMENT_LIMITS.messageBytes)
      throw new HttpError(
        413,
        'TOO_LARGE',
        `${field} is over ${ATTACHMENT_LIMITS.fileBytes} bytes a file or ${ATTACHMENT_LIMITS.messageBytes} a message`,
        {
          field: `${field}.contentBase64`,
        },
      );
    return { name: sanitiseName(item.name), bytes };
  });
}

/** `Content-Disposition` for a download: an ASCII fallback and the exact name as RFC 5987 UTF-8. */
export function attachmentDisposition(name: string): string {
  const ascii = name.replace(/[^A-Za-z0-9._ -]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
