/**
 * Topology files: YAML in, a checked Topology out, or one OvercastError listing every problem, each
 * with its code, field path (`switches[1].dpid`) and file position (`line`, `column`, also in the
 * message as `file:line:col`).
 *
 *   name: demo
 *   switches:
 *     - { name: s1, dpid: 1, ports: [1, 2, 3] }                   # or ports: [{ number: 1, name: up }]
 *   links:
 *     - [s1:3, s2:1]                                              # or { a: s1:3, b: { switch: s2, port: 1 }, up: false }
 *   hosts:
 *     - { name: h1, mac: "02:00:00:00:00:01", ip: 10.0.0.1/24, attach: s1:1 }
 *
 * Names: letters, digits, `_ . -`, unique across switches and hosts. dpid: positive integer, unique.
 * Ports: 1..0xffffff00, each used by at most one link or host. Host MAC: unicast, non-zero; host IP: a
 * usable address of its prefix. Unknown fields are errors (typos never pass silently).
 */
import { LineCounter, parseDocument, type Document } from 'yaml';
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import { checkTopology } from './check-topology.js';
import { decodeTopology } from './decode-topology.js';
import type { Topology } from './topology.js';

/** A problem in a topology file, placed in the file (1-based line and column) when it can be. */
export interface TopologyProblem extends ProblemDetail {
  line?: number;
  column?: number;
}

export function parseTopology(text: string, fileName = '<topology>'): Topology {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw OvercastError.fromProblems(
      doc.errors.map((e): TopologyProblem => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { code: 'OVC_ERR_TOPO_PARSE', message: `${fileName}:${line}:${col}: ${e.message}`, line, column: col };
      }),
    );
  }
  const decoded = decodeTopology(doc.toJS({ maxAliasCount: 1000 }));
  // Value rules run on everything; a problem under a field the shape check already reported is an
  // echo of it (a placeholder value) and is dropped.
  const reported = decoded.problems.map((p) => p.field).filter((f): f is string => f !== undefined);
  const echoes = (field: string | undefined) => field !== undefined && reported.some((r) => isUnder(field, r));
  const problems = [...decoded.problems, ...checkTopology(decoded.topology, decoded.paths).filter((p) => !echoes(p.field))];
  if (problems.length > 0) {
    const placed = problems.map((p) => placeProblem(p, doc, lineCounter, fileName));
    // In file order, so the list reads top to bottom (the sort is stable for equal positions).
    placed.sort((x, y) => (x.line ?? 0) - (y.line ?? 0) || (x.column ?? 0) - (y.column ?? 0));
    throw OvercastError.fromProblems(placed);
  }
  return decoded.topology;
}

function isUnder(field: string, parent: string): boolean {
  if (!field.startsWith(parent)) return false;
  const next = field[parent.length];
  return next === undefined || next === '.' || next === '[';
}

/** `switches[1].ports[0]` -> ['switches', 1, 'ports', 0] */
export function fieldSegments(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

function placeProblem(p: ProblemDetail, doc: Document, lineCounter: LineCounter, fileName: string): TopologyProblem {
  const segments = p.field ? fieldSegments(p.field) : [];
  // A missing field has no node: place the problem at the nearest enclosing node that exists.
  for (let n = segments.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) {
      const { line, col } = lineCounter.linePos(range[0]);
      return { ...p, message: `${fileName}:${line}:${col}: ${p.message}`, line, column: col };
    }
  }
  return { ...p, message: `${fileName}: ${p.message}` };
}
