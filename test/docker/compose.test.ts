/**
 * docker/: no Docker engine runs here, so the files are checked for syntax with docker-compose, and
 * docker/compose.yaml must equal what `overcast lab compose` generates from the lab plan (the layout
 * the e2e tests run as processes). The deployment is closed by default: the API is published on the
 * host's loopback only, the controller keeps its intent on a volume and takes its admin token from the
 * environment (compose refuses to start without one), and the image runs as an unprivileged user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { labCompose } from '../../src/cli/lab-command.js';

const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;

describe('docker files', () => {
  it('compose.yaml is the one generated from the demo lab plan', () => {
    const fresh = labCompose('topologies/demo.yaml', 'overcast:latest');
    expect(fs.readFileSync('docker/compose.yaml', 'utf8')).toBe(fresh);
  });

  it('every switch and host service runs the overcast image with its role command', () => {
    const text = fs.readFileSync('docker/compose.yaml', 'utf8');
    for (const role of ['controller', 'switch', 'host']) expect(text).toContain(`- ${role}\n`);
  });

  it('publishes the API on loopback, keeps intent on a volume and takes the token from the environment', () => {
    const doc = parse(fs.readFileSync('docker/compose.yaml', 'utf8')) as {
      services: Record<string, { command: string[]; ports?: string[]; environment?: Record<string, string>; volumes?: string[] }>;
      volumes: Record<string, unknown>;
    };
    const c = doc.services.controller;
    expect(c.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(c.command.slice(c.command.indexOf('--data'), c.command.indexOf('--data') + 2)).toEqual(['--data', '/var/lib/overcast']);
    expect(c.volumes).toEqual(['overcast-data:/var/lib/overcast', './pki:/pki:ro']);
    expect(Object.keys(doc.volumes)).toEqual(['overcast-data']);
    expect(c.environment?.OVERCAST_BOOTSTRAP_TOKEN).toMatch(/^\$\{OVERCAST_TOKEN:\?/);
    // Binding every address is said out loud in each command, never a default.
    for (const [name, s] of Object.entries(doc.services)) {
      for (const [i, arg] of s.command.entries()) if (arg === '--api-host' || arg === '--listen') expect(s.command[i + 1], name).toMatch(/0\.0\.0\.0/);
      expect(s.ports ?? [], name).not.toContainEqual(expect.stringMatching(/^\d+:\d+$/));
    }
  });

  it.skipIf(!hasCompose)('docker-compose accepts compose.yaml, and refuses to run it without OVERCAST_TOKEN', () => {
    const env = { ...process.env, OVERCAST_TOKEN: 'a-compose-token-of-at-least-32-characters' };
    const out = execFileSync('docker-compose', ['-f', 'docker/compose.yaml', 'config', '--services'], { encoding: 'utf8', env });
    expect(out.trim().split('\n').sort()).toEqual(['controller', 'h1', 'h2', 'h3', 'h4', 's1', 's2', 's3']);
    const { OVERCAST_TOKEN: _unset, ...without } = process.env;
    const refused = spawnSync('docker-compose', ['-f', 'docker/compose.yaml', 'config', '--services'], { encoding: 'utf8', env: without });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('set OVERCAST_TOKEN');
  });

  it('the Dockerfile builds from node 20 and runs bin/overcast.js', () => {
    const text = fs.readFileSync('docker/Dockerfile', 'utf8');
    expect(text).toMatch(/^FROM node:20/m);
    expect(text).toMatch(/ENTRYPOINT \["node", "bin\/overcast.js"\]/);
    // The last USER before the entry point is an unprivileged one, and the bundle is built before it.
    const users = [...text.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
    expect(text.indexOf('RUN node bin/overcast.js')).toBeLessThan(text.lastIndexOf('USER node'));
  });
});
