/**
 * The topology drawn with cytoscape: switches in tiers (breadth-first from the switches with nothing
 * attached, the spines of a leaf-spine), hosts and endpoints below their switch, coloured by VPC;
 * links labelled with their packet rate, thicker when busier, red and dashed when down. A trace's
 * nodes and edges are highlighted.
 */
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import { attachEdgeId, type View } from './view.js';

const VPC_COLOURS = ['#2a9d8f', '#e76f51', '#8e6cc9', '#e9c46a', '#3a86ff', '#d62828', '#6a994e'];

const STYLE = [
  { selector: 'node', style: { label: 'data(label)', 'font-size': 11, 'text-wrap': 'wrap', 'text-valign': 'bottom', 'text-margin-y': 4, color: '#222' } },
  { selector: 'node.switch', style: { shape: 'round-rectangle', width: 46, height: 28, 'background-color': '#264653', 'text-valign': 'center', color: '#fff', 'text-margin-y': 0 } },
  { selector: 'node.switch.disconnected', style: { 'background-color': '#9aa5ab', 'border-style': 'dashed', 'border-width': 2, 'border-color': '#555' } },
  { selector: 'node.member', style: { shape: 'ellipse', width: 18, height: 18, 'background-color': 'data(colour)' } },
  { selector: 'edge', style: { width: 'data(width)', 'line-color': '#8d99ae', label: 'data(label)', 'font-size': 10, 'text-background-color': '#fff', 'text-background-opacity': 0.8, 'curve-style': 'bezier' } },
  { selector: 'edge.attach', style: { width: 1, 'line-color': '#c9ced6' } },
  { selector: 'edge.down', style: { 'line-color': '#d62828', 'line-style': 'dashed', color: '#d62828' } },
  { selector: '.traced', style: { 'line-color': '#f77f00', 'background-color': '#f77f00', 'border-color': '#f77f00', 'border-width': 3, 'z-index': 10 } },
  { selector: 'edge.traced', style: { width: 5 } },
];

/** Edge width: 2 px idle, up to 10 px at 100k packets/s (log scale). */
function widthOf(pps: number | undefined): number {
  return pps === undefined || pps <= 0 ? 2 : Math.min(10, 2 + 1.6 * Math.log10(1 + pps));
}

export interface Graph {
  render(view: View): void;
  highlight(path: { nodes: string[]; edges: string[] } | undefined): void;
}

export function createGraph(container: HTMLElement): Graph {
  const cy: Core = cytoscape({ container, style: STYLE as cytoscape.StylesheetJson, elements: [], minZoom: 0.2, maxZoom: 3 });
  let shape = '';
  let traced: { nodes: string[]; edges: string[] } | undefined;

  const elementsOf = (view: View): ElementDefinition[] => {
    const els: ElementDefinition[] = view.switches.map((s) => ({
      group: 'nodes' as const,
      data: { id: s.id, label: s.name },
      classes: `switch${s.connected ? '' : ' disconnected'}`,
    }));
    view.groups.forEach((g, i) => {
      const colour = g.vpc === '' ? '#52b788' : VPC_COLOURS[i % VPC_COLOURS.length];
      for (const m of g.members) {
        els.push({ group: 'nodes', data: { id: m.id, label: m.label, colour }, classes: 'member' });
        els.push({ group: 'edges', data: { id: attachEdgeId(m.id), source: m.id, target: m.switchId, label: '', width: 1 }, classes: 'attach' });
      }
    });
    for (const l of view.links) {
      const label = l.label === 'idle' ? '' : l.label;
      els.push({ group: 'edges', data: { id: l.id, source: l.source, target: l.target, label, width: widthOf(l.packetsPerSecond) }, classes: l.up ? 'link' : 'link down' });
    }
    return els;
  };

  const applyTrace = () => {
    cy.elements().removeClass('traced');
    for (const id of [...(traced?.nodes ?? []), ...(traced?.edges ?? [])]) cy.getElementById(id).addClass('traced');
  };

  return {
    render(view) {
      const els = elementsOf(view);
      const nextShape = els.map((e) => `${e.data.id}>${String(e.data.source ?? '')}>${String(e.data.target ?? '')}`).join('|');
      if (nextShape !== shape) {
        // Nodes or edges came or went: draw afresh and lay out again.
        shape = nextShape;
        cy.elements().remove();
        cy.add(els);
        // The top tier: the switches with the most links (a leaf-spine's spines).
        const degree = new Map<string, number>();
        for (const l of view.links) for (const end of [l.source, l.target]) degree.set(end, (degree.get(end) ?? 0) + 1);
        const most = Math.max(0, ...degree.values());
        const roots = view.switches.filter((s) => (degree.get(s.id) ?? 0) === most).map((s) => s.id);
        cy.layout({ name: 'breadthfirst', directed: false, roots, spacingFactor: 1.15, animate: false, padding: 24 }).run();
      } else {
        // Same shape: only labels, widths and classes change (a link down shows at once, no re-layout).
        for (const e of els) {
          const el = cy.getElementById(String(e.data.id));
          el.data(e.data);
          el.classes(e.classes as string);
        }
      }
      applyTrace();
    },
    highlight(path) {
      traced = path;
      applyTrace();
    },
  };
}
