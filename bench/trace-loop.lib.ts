/**
 * The timed loop of the classifier benchmarks: every header of a ClassBench trace looked up once.
 *
 * Alone in its function on purpose, with the clock read by the caller. With the clock read after the
 * loop in the same function, V8 compiled the loop (on-stack replacement, during the first pass) before
 * that call had type feedback, so a pass ended in a deoptimization and the next one started in the
 * interpreter: in about half the processes the first timed pass or two ran 0.7x the others (acl1 10k:
 * 10.0-10.7 M lookups/s against 14-15). The sum stays an int32 so that it never overflows into a
 * deoptimization either.
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
