import { HttpError } from '../../http/http-error.js';

/** The longest search query accepted (characters). */
export const MAX_QUERY_LENGTH = 500;
/** The most terms a query keeps; later ones are dropped. */
export const MAX_QUERY_TERMS = 16;
/** The longest term kept (characters); longer runs are cut. */
const MAX_TERM_LENGTH = 64;

/**
 * The words of a text as both search indexes see them: NFKC, lower case, runs of letters and digits (everything
 * else, punctuation and control characters included, separates words). Both dialects index and query these
 * words only, so tokenising never depends on FTS5's or PostgreSQL's parser.
 */
export function wordsOf(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  ).map((word) => word.slice(0, MAX_TERM_LENGTH));
}

/** The normalised text a post is indexed by: its words joined by single spaces. */
export function searchTextOf(...texts: string[]): string {
  return texts.flatMap(wordsOf).join(' ');
}

/** The terms of a search query (AND-ed, the last one a prefix); 400 naming `q` when it is missing, empty or too long. */
export function queryTerms(q: string | undefined): string[] {
  if (q === undefined || q.trim() === '')
    throw new HttpError(400, 'INVALID', 'q must be a non-empty search query', { field: 'q' });
  if (q.length > MAX_QUERY_LENGTH)
    throw new HttpError(400, 'INVALID', `q must have at most ${MAX_QUERY_LENGTH} characters`, { field: 'q' });
  return wordsOf(q).slice(0, MAX_QUERY_TERMS);
}

/** An FTS5 MATCH expression of plain terms: each quoted (terms hold only letters and digits), the last a prefix. */
export function fts5Query(terms: readonly string[]): string {
  return terms.map((term, i) => `"${term}"${i === terms.length - 1 ? '*' : ''}`).join(' ');
}

/** A PostgreSQL to_tsquery text of plain terms: AND-ed, the last a prefix. */
export function tsQuery(terms: readonly string[]): string {
  return terms.map((term, i) => `${term}${i === terms.length - 1 ? ':*' : ''}`).join(' & ');
}
