/** @module Keeps control characters a package database may hold out of the apps the collectors report. */
import type { InstalledApp } from '../../core/app.js';
import type { FileProblem } from '../../core/report.js';
import type { AppCollection, AppCollector } from './app-collector.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const CONTROLS = /[\u0000-\u001f\u007f]/g;

/**
 * The same collector, with C0 control characters and DEL removed from every text field of every app (a NUL is
 * refused by the hub, the rest forge terminal output); each cleaned app is a recorded problem, and one whose name
 * is left empty is dropped.
 */
export function withCleanText(collector: AppCollector): AppCollector {
  return {
    ...collector,
    async collect(context) {
      const result = await collector.collect(context);
      return cleanCollection(result);
    },
  };
}

function cleanCollection(result: AppCollection): AppCollection {
  const apps: InstalledApp[] = [];
  const problems: FileProblem[] = [...result.problems];
  for (const app of result.apps) {
    const fields = Object.entries(app).filter(([, v]) => typeof v === 'string' && CONTROL.test(v));
    if (fields.length === 0) {
      apps.push(app);
      continue;
    }
    const cleaned = { ...app } as Record<string, unknown>;
    for (const [key, value] of fields) cleaned[key] = (value as string).replace(CONTROLS, '');
    const kept = (cleaned.name as string).trim() !== '';
    problems.push({
      path: cleaned.location as string,
      code: 'control-characters',
      message: `${kept ? 'removed' : 'dropped an app for'} control characters in ${fields.map(([k]) => k).join(', ')} of ${JSON.stringify(cleaned.name).slice(0, 200)}`,
    });
    if (kept) apps.push(cleaned as InstalledApp);
  }
  return { ...result, apps, problems };
}
