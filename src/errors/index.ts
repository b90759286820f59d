export { ERROR_CODES, type ErrorCode } from './codes.js';
export { OvercastError, isOvercastError, type ProblemDetail } from './overcast-error.js';
