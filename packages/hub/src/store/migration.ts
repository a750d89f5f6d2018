/** One versioned schema change; the same SQL runs on both dialects unless it gives one text per dialect. */
export interface Migration {
  version: number;
  name: string;
  up: string | { sqlite: string; postgres: string };
}
