/**
 * Every refusal in Overcast is an OvercastError: a stable code (`OVC_ERR_<AREA>_<WHAT>`), the HTTP
 * status the API answers with, and the offending field. Codes are declared once, in ./codes.ts.
 * Tests assert codes, never message text.
 */
import { ERROR_CODES, type ErrorCode } from './codes.js';

export interface ProblemDetail {
  code: ErrorCode;
  message: string;
  /** Dotted path of the offending field, e.g. `switches[2].dpid` or `body.cidr`. */
  field?: string;
}

export class OvercastError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly field: string | undefined;
  /** Further problems found in the same input (validation reports all of them at once). */
  readonly problems: ProblemDetail[];

  constructor(code: ErrorCode, message: string, field?: string, problems: ProblemDetail[] = []) {
    super(message);
    this.name = 'OvercastError';
    this.code = code;
    this.statusCode = ERROR_CODES[code].status;
    this.field = field;
    this.problems = problems.length > 0 ? problems : [{ code, message, ...(field ? { field } : {}) }];
  }

  /** One error standing for several problems; its code and field are the first problem's. */
  static fromProblems(problems: ProblemDetail[]): OvercastError {
    const [first] = problems;
    if (!first) throw new Error('fromProblems needs at least one problem');
    const summary = problems.length === 1 ? first.message : `${first.message} (and ${problems.length - 1} more problems)`;
    return new OvercastError(first.code, summary, first.field, problems);
  }
}

export function isOvercastError(e: unknown): e is OvercastError {
  return e instanceof OvercastError;
}
