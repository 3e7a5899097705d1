import { describe, expect, it } from 'vitest';
import { principalMode } from '../../src/proxy/listener-authorization.js';

describe('principalMode (listeners[].modeOverrides)', () => {
  const overrides = { 'User:team-b*': 'audit', 'User:team-b-payments': 'enforce', 'User:team-b-pay*': 'enforce', 'User:batch': 'audit' } as const;

  it("gives a principal its exact override first, else the longest matching prefix's, else the listener's mode", () => {
    const settings = { mode: 'enforce' as const, modeOverrides: overrides };
    expect(principalMode(settings, 'User:batch')).toBe('audit');
    expect(principalMode(settings, 'User:team-b-orders')).toBe('audit');
    expect(principalMode(settings, 'User:team-b-payments')).toBe('enforce');
    expect(principalMode(settings, 'User:team-b-payroll')).toBe('enforce');
    expect(principalMode(settings, 'User:team-a')).toBe('enforce');
    expect(principalMode(settings, 'User:batch2')).toBe('enforce');
    expect(principalMode({ mode: 'audit' }, 'User:batch')).toBe('audit');
    expect(principalMode({ mode: 'audit', modeOverrides: { 'User:team-a': 'enforce' } }, 'User:team-a')).toBe('enforce');
  });

  it("'*' alone covers every principal; names that look like object keys are plain names", () => {
    expect(principalMode({ mode: 'enforce', modeOverrides: { '*': 'audit' } }, 'anyone')).toBe('audit');
    expect(principalMode({ mode: 'enforce', modeOverrides: { 'User:a': 'audit' } }, '__proto__')).toBe('enforce');
    expect(principalMode({ mode: 'enforce', modeOverrides: { 'User:a': 'audit' } }, 'constructor')).toBe('enforce');
  });

  it('an allow-all listener (the emergency switch) lets everyone through, overrides or not', () => {
    expect(principalMode({ mode: 'allow-all', modeOverrides: overrides }, 'User:team-b-payments')).toBe('allow-all');
  });
});
