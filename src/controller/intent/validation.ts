/**
 * Helpers the resource modules share to report every problem of a request at once, with the API's
 * field names.
 */
import { OvercastError, isOvercastError, type ProblemDetail } from '../../errors/index.js';

/** Runs a parser; its OvercastError becomes problems and the value undefined. */
export function collect<T>(problems: ProblemDetail[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (!isOvercastError(e)) throw e;
    problems.push(...e.problems);
    return undefined;
  }
}

/**
 * Runs `fn`; its OvercastError is thrown again with the fields renamed to the API's: a field equal to
 * `from`, or under it (`from.x`, `from[2]`), takes `to` in its place (`switches[3].dpid` -> `body.dpid`).
 */
export function rebaseFields<T>(fn: () => T, renames: [from: string, to: string][]): T {
  try {
    return fn();
  } catch (e) {
    if (!isOvercastError(e)) throw e;
    const rename = (field: string | undefined) => {
      if (field === undefined) return undefined;
      for (const [from, to] of renames) {
        if (field === from) return to;
        if (field.startsWith(from) && (field[from.length] === '.' || field[from.length] === '[')) return to + field.slice(from.length);
      }
      return field;
    };
    throw OvercastError.fromProblems(e.problems.map((p) => ({ ...p, field: rename(p.field) })));
  }
}
