import { expect } from 'vitest';
import { isOvercastError, type ErrorCode } from '../../src/errors/index.js';

/** Assert that `fn` throws an OvercastError with this code (and field, when given). */
export function expectCode(fn: () => unknown, code: ErrorCode, field?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(isOvercastError(thrown), `expected ${code}, got ${String(thrown)}`).toBe(true);
  if (!isOvercastError(thrown)) return;
  expect(thrown.code).toBe(code);
  if (field !== undefined) expect(thrown.field).toBe(field);
}
