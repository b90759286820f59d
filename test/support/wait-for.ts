/**
 * Tests wait on conditions, never on the clock. `waitFor` runs a check until it yields a value; when
 * time is up it throws "timed out after N ms waiting for <what>; last seen: <...>" with what the check
 * last reported (`notYet(seen)`) or last threw, so a failure says what happened instead.
 *
 *   const got = await waitFor('the datagram at h8', async () => {
 *     const list = await received(h8);
 *     return list.length > 0 ? list : notYet(list);
 *   }, { timeoutMs: 10_000 });
 *
 * A check yields its value by returning anything but `undefined`, `false`, `notYet(...)` or
 * `giveUp(...)`. A check that throws is run again (a process may be restarting); its error is what was
 * seen. `giveUp(reason)` ends the wait at once (the condition can no longer hold). Polling waits in
 * test/ go through here.
 */

const PENDING = Symbol('notYet');
const GIVE_UP = Symbol('giveUp');
const NOTHING = Symbol('nothing');

/** What a check returns while its condition does not hold yet: what it saw, for the timeout's message. */
export interface NotYet {
  readonly [PENDING]: true;
  readonly seen: unknown;
}

export function notYet(seen: unknown): NotYet {
  return { [PENDING]: true, seen };
}

/** What a check returns when the condition can no longer hold: the wait fails at once with `reason`. */
export interface GiveUp {
  readonly [GIVE_UP]: true;
  readonly reason: unknown;
}

export function giveUp(reason: unknown): GiveUp {
  return { [GIVE_UP]: true, reason };
}

export type Pending = undefined | false | NotYet | GiveUp;

export interface WaitOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Pause between two runs of the check (default 20 ms). */
  everyMs?: number;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 5000;
export const DEFAULT_WAIT_EVERY_MS = 20;

function isNotYet(v: unknown): v is NotYet {
  return typeof v === 'object' && v !== null && PENDING in v;
}

function isGiveUp(v: unknown): v is GiveUp {
  return typeof v === 'object' && v !== null && GIVE_UP in v;
}

function isPending(v: unknown): v is Pending {
  return v === undefined || v === false || isNotYet(v) || isGiveUp(v);
}

/** Runs `check` until it yields a value (see the file's comment); throws with what it saw last on a timeout. */
export async function waitFor<R>(what: string, check: () => R | Promise<R>, options: WaitOptions = {}): Promise<Exclude<R, Pending>> {
  const { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS, everyMs = DEFAULT_WAIT_EVERY_MS } = options;
  const deadline = performance.now() + timeoutMs;
  let seen: unknown = NOTHING;
  for (;;) {
    try {
      const r = await beforeDeadline(check, deadline);
      if (r === HUNG) {
        seen = `the check itself had not answered (before that: ${describeSeen(seen)})`;
        break;
      }
      if (isGiveUp(r)) throw new GaveUp(`gave up waiting for ${what}: ${describeSeen(r.reason)}`);
      if (!isPending(r)) return r as Exclude<R, Pending>;
      if (isNotYet(r)) seen = r.seen;
    } catch (e) {
      if (e instanceof GaveUp) throw e;
      seen = e;
    }
    const left = deadline - performance.now();
    if (left <= 0) break;
    await pause(Math.min(everyMs, left));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${describeSeen(seen)}`);
}

class GaveUp extends Error {}

const HUNG = Symbol('hung');

/** The check's answer, or HUNG when it has not answered by the deadline (a request that never returns). */
async function beforeDeadline<R>(check: () => R | Promise<R>, deadline: number): Promise<R | typeof HUNG> {
  const answer = check();
  if (!(answer instanceof Promise)) return answer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<typeof HUNG>((resolve) => {
    timer = setTimeout(() => resolve(HUNG), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([answer, hung]);
  } finally {
    clearTimeout(timer);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const MAX_SEEN_CHARS = 2000;

/** What was seen, as text: an error's message, a string as is, anything else as JSON (Buffers as hex). */
export function describeSeen(seen: unknown): string {
  if (seen === NOTHING) return 'nothing (the check reported nothing; return notYet(what) to say)';
  let text: string;
  if (seen instanceof Error) text = `${seen.name}: ${seen.message}`;
  else if (typeof seen === 'string') text = seen;
  else {
    try {
      text = JSON.stringify(seen, (_k, v: unknown) => jsonable(v)) ?? String(seen);
    } catch {
      text = String(seen);
    }
  }
  return text.length > MAX_SEEN_CHARS ? `${text.slice(0, MAX_SEEN_CHARS)}... (${text.length} chars)` : text;
}

function jsonable(v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Map) return Object.fromEntries(v);
  if (v instanceof Set) return [...v];
  if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return `hex:${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
  }
  return v;
}
