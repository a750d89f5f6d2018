import type { Coverage, FileProblem } from '../core/report.js';

const KEEP_PROBLEMS = 200;

/** Collects what one part of the scan could not cover; keeps the first problems and counts them all. */
export class CoverageTracker {
  private readonly problems: FileProblem[] = [];
  private count = 0;

  constructor(readonly name: string) {}

  add(problem: FileProblem): void {
    this.count++;
    if (this.problems.length < KEEP_PROBLEMS) this.problems.push(problem);
  }

  get problemCount(): number {
    return this.count;
  }

  toCoverage(): Coverage {
    return {
      name: this.name,
      outcome: this.count > 0 ? 'partial' : 'complete',
      problemCount: this.count,
      problems: this.problems,
    };
  }
}
