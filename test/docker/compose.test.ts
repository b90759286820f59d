/**
 * docker/: no Docker engine runs here, so the files are checked for syntax with docker-compose, and
 * docker/compose.yaml must equal what `overcast lab compose` generates from the lab plan (the layout
 * the e2e tests run as processes).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
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

  it.skipIf(!hasCompose)('docker-compose accepts compose.yaml', () => {
    const out = execFileSync('docker-compose', ['-f', 'docker/compose.yaml', 'config', '--services'], { encoding: 'utf8' });
    expect(out.trim().split('\n').sort()).toEqual(['controller', 'h1', 'h2', 'h3', 'h4', 's1', 's2', 's3']);
  });

  it('the Dockerfile builds from node 20 and runs bin/overcast.js', () => {
    const text = fs.readFileSync('docker/Dockerfile', 'utf8');
    expect(text).toMatch(/^FROM node:20/m);
    expect(text).toMatch(/ENTRYPOINT \["node", "bin\/overcast.js"\]/);
  });
});
