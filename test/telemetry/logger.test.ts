import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';

function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger('debug', (l) => lines.push(l)) };
}

describe('logger redaction', () => {
  it('masks sensitive keys whole, at any depth, and keeps the rest', () => {
    const { lines, log } = capture();
    log.warn('upgrade refused', {
      client_id: 'alice',
      token: 'eyJhbGciOiJIUzI1NiJ9.e30.x',
      nested: { Password: 'hunter2', card_number: '4111111111111111', ok: 3 },
      list: [{ api_key: 'abc' }],
      empty_secret: '',
    });
    const fields = JSON.parse(lines[0]!.slice(lines[0]!.indexOf('{'))) as Record<string, unknown>;
    expect(fields).toEqual({
      client_id: 'alice',
      token: '[REDACTED]',
      nested: { Password: '[REDACTED]', card_number: '[REDACTED]', ok: 3 },
      list: [{ api_key: '[REDACTED]' }],
      empty_secret: '',
    });
  });

  it('masks probable secrets inside free text, e.g. an error message', () => {
    const { lines, log } = capture();
    const key = 'AKIA' + 'Q3EGRIVXNXT7HZWA';
    log.error('unexpected error', { error: `Error: bad credentials ${key} for bucket logs` });
    expect(lines[0]).not.toContain(key);
    expect(lines[0]).toContain('[REDACTED:');
    expect(lines[0]).toContain('for bucket logs');
  });

  it('writes nothing below its level', () => {
    const lines: string[] = [];
    createLogger('error', (l) => lines.push(l)).info('hidden', { password: 'x' });
    expect(lines).toEqual([]);
  });
});
