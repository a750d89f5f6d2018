/** A problem found in an input (IOC list, rule file, pack): where it is and what is wrong. */
export interface Diagnostic {
  level: 'error' | 'warning';
  file: string;
  line?: number;
  column?: number;
  message: string;
}

/** `file:line:column: message`, the form editors and terminals link. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.file, d.line, d.line !== undefined ? d.column : undefined].filter((x) => x !== undefined);
  return `${where.join(':')}: ${d.level}: ${d.message}`;
}
