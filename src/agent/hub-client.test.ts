import { describe, expect, it } from 'vitest';
import { hubMessage } from './hub-client.js';

describe('hubMessage', () => {
  it("gives the hub's JSON error as code, message and field", () => {
    const body = JSON.stringify({
      error: { code: 'INVALID', message: 'must be a severity', field: 'findings[3].severity' },
    });
    expect(hubMessage(body, 400)).toBe('HTTP 400: INVALID: must be a severity (findings[3].severity)');
  });

  it('keeps any other answer to one printable line of at most 300 characters', () => {
    const line = hubMessage(`oops\r\nchainsweep: forged\u001b[2J\u202e${'x'.repeat(1000)}`, 502);
    expect(line).toMatch(/^HTTP 502: oops chainsweep: forged \[2J x+…$/);
    expect(line).not.toMatch(/[\p{Cc}\u202e]/u);
    expect(line.length).toBeLessThan(320);
    expect(hubMessage('', 503)).toBe('HTTP 503: no message');
  });
});
