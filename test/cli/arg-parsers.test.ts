import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { nonNegativeInt } from '../../src/cli/arg-parsers.js';

describe('nonNegativeInt (CLI option parser)', () => {
  it('takes non-negative integers and refuses the rest with commander\'s invalid-argument error', () => {
    expect(nonNegativeInt('0')).toBe(0);
    expect(nonNegativeInt('8080')).toBe(8080);
    for (const bad of ['abc', '-1', '1.5', '', ' ', 'NaN', 'Infinity']) expect(() => nonNegativeInt(bad), bad).toThrow(InvalidArgumentError);
  });
});
