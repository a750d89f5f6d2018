import { z } from 'zod';
import type { Finding } from '../core/finding.js';
import { FindingSchema } from '../core/finding.js';
import { type Report, ReportSchema } from '../core/report.js';

/** NDJSON output: one `finding` line per finding as it is found, then one `summary` line with the rest of the report. */
export const NdjsonLineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('finding'), finding: FindingSchema }),
  z.object({ type: z.literal('summary'), report: ReportSchema.omit({ findings: true }) }),
]);
export type NdjsonLine = z.infer<typeof NdjsonLineSchema>;

export function findingLine(finding: Finding): string {
  return `${JSON.stringify({ type: 'finding', finding } satisfies NdjsonLine)}\n`;
}

export function summaryLine(report: Report): string {
  const { findings: _omit, ...rest } = report;
  return `${JSON.stringify({ type: 'summary', report: rest } satisfies NdjsonLine)}\n`;
}
