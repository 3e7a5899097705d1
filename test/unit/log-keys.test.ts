import { describe, expect, it } from 'vitest';
import { repeatedKeys } from '../support/log-keys.js';

describe('repeatedKeys (the integration tests’ check on log lines)', () => {
  it('finds a top-level key written twice, as a child logger binding logged again would be', () => {
    expect(repeatedKeys('{"level":30,"principal":"a","msg":"x","principal":"a"}')).toEqual(['principal']);
  });

  it('ignores keys of nested objects and key-like text inside strings', () => {
    expect(repeatedKeys('{"a":{"b":1,"c":{"b":2}},"b":[{"a":1}],"msg":"\\"a\\":1","err":"x\\\\"}')).toEqual([]);
  });
});
