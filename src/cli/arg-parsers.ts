/** Option parsers shared by the CLI's commands (commander calls them with the option's text). */
import { InvalidArgumentError } from 'commander';

/** A non-negative integer, or commander's "argument is invalid" error naming the option. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a non-negative integer');
  return n;
}
