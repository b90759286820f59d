/**
 * Mutations of valid bytes for fuzzing decoders with fast-check: byte flips, truncations, insertions,
 * deletions and duplicated slices, several at once. Decoders meet mostly-valid input far more often
 * than pure noise, and it reaches deeper into them.
 */
import fc from 'fast-check';

type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }) },
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
);

function apply(bytes: Buffer, m: Mutation): Buffer {
  if (bytes.length === 0) return m.kind === 'insert' ? Buffer.from(m.bytes) : bytes;
  const at = m.at % bytes.length;
  switch (m.kind) {
    case 'set': {
      const out = Buffer.from(bytes);
      out[at] = m.byte;
      return out;
    }
    case 'truncate':
      return Buffer.from(bytes.subarray(0, at));
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    case 'duplicate':
      return Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)]);
  }
}

/** One of `valid`, changed by one to four mutations. */
export function mutatedArb(valid: readonly Uint8Array[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.nat({ max: valid.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([i, ms]) => ms.reduce<Buffer>((b, m) => apply(b, m), Buffer.from(valid[i])));
}
