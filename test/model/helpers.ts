import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { isOvercastError, type OvercastError } from '../../src/errors/index.js';
import { parseTopology, type Topology, type TopologyProblem } from '../../src/model/index.js';

export const SHIPPED = ['demo.yaml', 'linear-8.yaml', 'leaf-spine.yaml', 'fat-tree-k4.yaml'] as const;

export function shippedText(file: string): string {
  return readFileSync(fileURLToPath(new URL(`../../topologies/${file}`, import.meta.url)), 'utf8');
}

export function loadShipped(file: string): Topology {
  return parseTopology(shippedText(file), file);
}

/** The OvercastError `fn` throws (fails the test when it throws nothing or something else). */
export function caught(fn: () => unknown): OvercastError {
  try {
    fn();
  } catch (e) {
    if (isOvercastError(e)) return e;
    throw e;
  }
  expect.fail('expected an OvercastError');
}

/** The problems of a topology text, as [code, field] pairs in the order reported. */
export function problemsOf(text: string): [string, string | undefined][] {
  return caught(() => parseTopology(text, 'test.yaml')).problems.map((p) => [p.code, p.field]);
}

export function problemList(text: string): TopologyProblem[] {
  return caught(() => parseTopology(text, 'test.yaml')).problems as TopologyProblem[];
}

/** A small valid topology, as text, to break one thing at a time. */
export const BASE = `
name: t
switches:
  - { name: s1, dpid: 1, ports: [1, 2, 3] }
  - { name: s2, dpid: 2, ports: [1, 2, 3] }
links:
  - [s1:3, s2:3]
hosts:
  - { name: h1, mac: "02:00:00:00:00:01", ip: 10.0.0.1/24, attach: s1:1 }
  - { name: h2, mac: "02:00:00:00:00:02", ip: 10.0.0.2/24, attach: s2:1 }
`;
