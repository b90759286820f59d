/**
 * Reads docs/guide.md's checked steps and compares a command's output with the guide's, by shape:
 * ids (vpc-1, ep-2...), addresses and MACs must be exactly as shown; other numbers (ports, times,
 * counts) may differ; runs of spaces are one space; `…` in a line stands for any text, and a line of
 * just `…` for any number of lines.
 */

export interface GuideStep {
  command: string;
  expected: string[];
  /** Line of the command in the guide (for messages). */
  line: number;
}

/** Every `$ command` in ```console blocks, with the lines printed under it. */
export function parseGuide(markdown: string): GuideStep[] {
  const steps: GuideStep[] = [];
  let inConsole = false;
  let current: GuideStep | undefined;
  markdown.split('\n').forEach((text, i) => {
    if (text.startsWith('```')) {
      inConsole = !inConsole && text.trim() === '```console';
      current = undefined;
      return;
    }
    if (!inConsole) return;
    if (text.startsWith('$ ')) {
      current = { command: text.slice(2), expected: [], line: i + 1 };
      steps.push(current);
    } else current?.expected.push(text);
  });
  return steps;
}

const EXACT = /(?:\b(?:vpc|subnet|ep|eip|lb)-\d+\b)|(?:\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b)|(?:\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?\b)/g;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Numbers (not in ids or addresses) may vary, `…` is any text, spaces are flexible. */
function loose(text: string): string {
  return escape(text)
    .replace(/\d+(?:\\\.\d+)?/g, '\\d+(?:\\.\\d+)?')
    .replace(/…/g, '.*')
    .replace(/\s+/g, '\\s+');
}

export function lineRegex(expected: string): RegExp {
  let out = '';
  let at = 0;
  for (const m of expected.matchAll(EXACT)) {
    out += loose(expected.slice(at, m.index)) + escape(m[0]);
    at = (m.index ?? 0) + m[0].length;
  }
  out += loose(expected.slice(at));
  return new RegExp(`^${out}$`);
}

/** Undefined when `actual` has the guide's shape; else what differs. */
export function compareOutput(expected: string[], actual: string[]): string | undefined {
  const want = trimEnd(expected).map((l) => l.trimEnd());
  const got = trimEnd(actual).map((l) => l.trimEnd());
  const match = (wi: number, gi: number): boolean => {
    if (wi === want.length) return gi === got.length;
    if (want[wi].trim() === '…') {
      for (let g = gi; g <= got.length; g++) if (match(wi + 1, g)) return true;
      return false;
    }
    return gi < got.length && lineRegex(want[wi]).test(got[gi]) && match(wi + 1, gi + 1);
  };
  if (match(0, 0)) return undefined;
  // The first line that does not fit, for the message.
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if (want[i]?.trim() === '…') break;
    if (want[i] === undefined || got[i] === undefined || !lineRegex(want[i]).test(got[i])) {
      return `line ${i + 1}: the guide shows ${JSON.stringify(want[i])}, the command printed ${JSON.stringify(got[i])}`;
    }
  }
  return `the guide shows\n${want.join('\n')}\nthe command printed\n${got.join('\n')}`;
}

function trimEnd(lines: string[]): string[] {
  const out = [...lines];
  while (out.length > 0 && out[out.length - 1].trim() === '') out.pop();
  return out;
}
