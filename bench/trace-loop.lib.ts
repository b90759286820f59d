/**
 * The timed loop of the classifier benchmarks: every header of a ClassBench trace looked up once.
 *
 * Alone in its function on purpose, with the clock read by the caller. With the clock read after the
 * loop in the same function, V8 compiles the loop (on-stack replacement, during the first pass) before
 * that call has type feedback, so a pass ends in a deoptimization and the next one starts in the
 * interpreter, and in some processes the first timed passes run far slower than the others. The sum
 * stays an int32 so that it never overflows into a deoptimization either.
 */
import { createPacketKey } from '../src/flow/index.js';
import { traceKey, type ClassBenchTrace } from '../src/classifier/index.js';

/** Look up every header of the trace; returns a sum of the answers (keep it, or the loop may go). */
export function lookupAll(c: { lookupId(key: Uint32Array): number }, trace: ClassBenchTrace): number {
  const key = createPacketKey();
  let acc = 0;
  for (let i = 0; i < trace.count; i++) {
    traceKey(trace, i, key);
    // The rule's id, as the C++ harnesses return the rule's number (see Classifier.lookupId).
    acc = (acc + c.lookupId(key)) | 0;
  }
  return acc;
}
