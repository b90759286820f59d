import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { scanCodeMentions, undeclaredCodes, unraisedCodes, type CodeMentions } from './code-mentions.js';

/** Every .ts file under src/, with its text. */
function sources(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [{ file: p, text: readFileSync(p, 'utf8') }] : [];
  });
}

describe('error codes (src/errors/codes.ts)', () => {
  const src = sources(path.resolve('src')).filter((s) => !s.file.endsWith(path.join('errors', 'codes.ts')));
  const declared = Object.keys(ERROR_CODES);

  it('each has an HTTP error status and a sentence saying what it means', () => {
    for (const [code, { status, doc }] of Object.entries(ERROR_CODES)) {
      expect(code, code).toMatch(/^OVC_ERR_[A-Z0-9_]+$/);
      expect(status >= 400 && status <= 599, `${code} status ${status}`).toBe(true);
      expect(doc.length, `${code} doc`).toBeGreaterThan(10);
    }
  });

  // Raised means named in code (a string literal, a template, an identifier), not in a comment. A code
  // the sources name, even in a comment, but do not declare is one the docs (which point here) do not
  // list; families in prose (OVC_ERR_FLOW_*) are not codes.
  it('each is raised somewhere, and every code the sources name is declared', () => {
    const mentions = src.map((s) => scanCodeMentions(s.file, s.text));
    expect(unraisedCodes(declared, mentions)).toEqual([]);
    expect(undeclaredCodes(declared, mentions)).toEqual([]);
  });
});

describe('the code scanner', () => {
  const scan = (text: string): CodeMentions => scanCodeMentions('x.ts', text);

  it('counts a code named only in comments as not raised', () => {
    const text = [
      '// throws OVC_ERR_A_LINE when ...',
      '/* or OVC_ERR_A_BLOCK */',
      '/** and {@link OVC_ERR_A_JSDOC} */',
      "export function f(): void { throw new Error('x'); } // OVC_ERR_A_TRAILING",
      '/* OVC_ERR_A_AT_END */',
    ].join('\n');
    const m = scan(text);
    expect([...m.inCode]).toEqual([]);
    expect([...m.inComments].sort()).toEqual(['OVC_ERR_A_AT_END', 'OVC_ERR_A_BLOCK', 'OVC_ERR_A_JSDOC', 'OVC_ERR_A_LINE', 'OVC_ERR_A_TRAILING']);
    expect(unraisedCodes(['OVC_ERR_A_LINE', 'OVC_ERR_A_BLOCK'], [m])).toEqual(['OVC_ERR_A_LINE', 'OVC_ERR_A_BLOCK']);
  });

  it('finds codes in string and template literals and identifiers, comment-like text in a string included', () => {
    const m = scan(
      [
        "throw new OvercastError('OVC_ERR_B_PLAIN', 'no', 'f');",
        'const t = `${x}OVC_ERR_B_TEMPLATE ${y} OVC_ERR_B_TAIL`;',
        "const s = '// OVC_ERR_B_NOT_A_COMMENT';",
        'const o = { OVC_ERR_B_KEY: 1 };',
        "type T = 'OVC_ERR_B_TYPE';",
      ].join('\n'),
    );
    expect([...m.inCode].sort()).toEqual(['OVC_ERR_B_KEY', 'OVC_ERR_B_NOT_A_COMMENT', 'OVC_ERR_B_PLAIN', 'OVC_ERR_B_TAIL', 'OVC_ERR_B_TEMPLATE', 'OVC_ERR_B_TYPE']);
    expect([...m.inComments]).toEqual([]);
    expect(unraisedCodes(['OVC_ERR_B_PLAIN', 'OVC_ERR_B_NOT_A_COMMENT'], [m])).toEqual([]);
  });

  it('reports a code named but not declared, and leaves families in prose alone', () => {
    const m = scan("// OVC_ERR_FLOW_* and OVC_ERR_<AREA>_<WHAT>, see OVC_ERR_C_TYPO\nraise('OVC_ERR_C_REAL');");
    expect(undeclaredCodes(['OVC_ERR_C_REAL'], [m])).toEqual(['OVC_ERR_C_TYPO']);
  });
});
