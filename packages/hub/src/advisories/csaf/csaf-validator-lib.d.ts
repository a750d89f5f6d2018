/** Types of the parts of `@secvisogram/csaf-validator-lib` (plain ESM JavaScript, no types) the tests use. */
declare module '@secvisogram/csaf-validator-lib/validate.js' {
  export type Message = { message: string; instancePath: string };
  export type TestResult = { isValid?: boolean; errors?: Message[]; warnings?: Message[]; infos?: Message[] };
  export type DocumentTest = ((doc: unknown) => TestResult | Promise<TestResult>) & { name: string };
  /** Runs `tests` over `doc`: valid when every test is. */
  // biome-ignore lint/style/noDefaultExport: the library's module exports it as its default
  export default function validate(
    tests: DocumentTest[],
    doc: unknown,
  ): Promise<{
    isValid: boolean;
    tests: { name: string; isValid: boolean; errors: Message[]; warnings: Message[]; infos: Message[] }[];
  }>;
}
declare module '@secvisogram/csaf-validator-lib/basic.js' {
  import type { DocumentTest } from '@secvisogram/csaf-validator-lib/validate.js';

  /** The strict schema test and every mandatory test (and `default`, the validate function). */
  const tests: Record<string, DocumentTest>;
  export = tests;
}
declare module '@secvisogram/csaf-validator-lib/optionalTests.js' {
  import type { DocumentTest } from '@secvisogram/csaf-validator-lib/validate.js';

  const tests: Record<string, DocumentTest>;
  export = tests;
}
