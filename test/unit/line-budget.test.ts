import { describe, expect, it } from 'vitest';
import { LineBudget } from '../../src/observe/line-budget.js';

describe('LineBudget', () => {
  it('allows perSecond lines of a kind per second; the next window\'s first line says how many were left out', () => {
    let now = 0;
    const lines = new LineBudget<string>(3, () => now);
    const first = Array.from({ length: 10 }, () => lines.take('authentication failed'));
    expect(first.filter(Boolean)).toEqual([{ notLogged: 0 }, { notLogged: 0 }, { notLogged: 0 }]);
    now = 999;
    expect(lines.take('authentication failed')).toBeUndefined();
    now = 1000;
    expect(lines.take('authentication failed')).toEqual({ notLogged: 8 });
    expect(lines.take('authentication failed')).toEqual({ notLogged: 0 });
  });

  it('keeps each kind to its own budget', () => {
    const lines = new LineBudget<string>(1, () => 0);
    expect(lines.take('per-ip')).toEqual({ notLogged: 0 });
    expect(lines.take('per-ip')).toBeUndefined();
    expect(lines.take('max-connections')).toEqual({ notLogged: 0 });
  });
});
