/**
 * The topology page's files for the controller's API: src/web/index.html and src/web/main.ts bundled
 * by esbuild (cytoscape included) on the first request, then kept in memory. No build step for anyone
 * to run, and no file written (several controllers may start at once).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** src/web, found upwards from this module (it runs from src/cli under tsx, from dist/ when bundled). */
function findWebDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'src', 'web');
    if (fs.existsSync(path.join(candidate, 'main.ts'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find src/web above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export async function bundleWebPage(webDir = findWebDir()): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [path.join(webDir, 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

export function webPage(): { html(): Promise<string>; script(): Promise<string> } {
  let script: Promise<string> | undefined;
  return {
    html: async () => fs.promises.readFile(path.join(findWebDir(), 'index.html'), 'utf8'),
    script() {
      // A failed build is not cached: the next request tries again.
      script ??= bundleWebPage().catch((e: unknown) => {
        script = undefined;
        throw e;
      });
      return script;
    },
  };
}
