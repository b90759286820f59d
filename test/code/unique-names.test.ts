/**
 * One name per concept: no two exported types, interfaces, classes or enums in src/ share a name, so an
 * import never needs `as` to tell two of them apart. Generated code is left out.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const EXPORTED_TYPE = /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:type|interface|class|enum)\s+([A-Za-z_$][\w$]*)/gm;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Exported type names declared in more than one place, with where. */
function duplicateTypeNames(files: { file: string; text: string }[]): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const { file, text } of files) {
    for (const m of text.matchAll(EXPORTED_TYPE)) where.set(m[1], [...(where.get(m[1]) ?? []), file]);
  }
  return new Map([...where].filter(([, files]) => files.length > 1));
}

describe('exported type names', () => {
  it('finds a name declared twice (the check can fail)', () => {
    const dups = duplicateTypeNames([
      { file: 'a.ts', text: 'export interface Port {\n}\nexport type Other = 1;' },
      { file: 'b.ts', text: 'export class Port {}\n// export type Other = 2;' },
    ]);
    expect([...dups]).toEqual([['Port', ['a.ts', 'b.ts']]]);
  });

  it('are unique across src/', () => {
    const files = sources(path.resolve('src')).map((file) => ({ file: path.relative(process.cwd(), file), text: readFileSync(file, 'utf8') }));
    expect(Object.fromEntries(duplicateTypeNames(files))).toEqual({});
  });
});
