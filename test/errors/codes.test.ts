import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';

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

  it('each has an HTTP error status and a sentence saying what it means', () => {
    for (const [code, { status, doc }] of Object.entries(ERROR_CODES)) {
      expect(code, code).toMatch(/^OVC_ERR_[A-Z0-9_]+$/);
      expect(status >= 400 && status <= 599, `${code} status ${status}`).toBe(true);
      expect(doc.length, `${code} doc`).toBeGreaterThan(10);
    }
  });

  // A code the sources name but do not declare is one the docs (which point here) do not list. Names
  // ending in '_' or '_*' are families in comments (OVC_ERR_FLOW_*), not codes.
  it('each is raised somewhere, and every code the sources name is declared', () => {
    const named = new Set(src.flatMap((s) => s.text.match(/OVC_ERR_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])/g) ?? []));
    const declared = new Set(Object.keys(ERROR_CODES));
    expect([...declared].filter((c) => !named.has(c))).toEqual([]);
    expect([...named].filter((c) => !declared.has(c))).toEqual([]);
  });
});
