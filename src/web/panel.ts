/**
 * The page's accessible side panel: every switch, link and VPC member as a list item a screen reader
 * (and a test) can read, each tagged with data-* attributes, and the trace form's choices.
 */
import type { View } from './view.js';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export function renderPanel(view: View, doc: Document = document): void {
  const switches = doc.getElementById('switch-list') as HTMLElement;
  switches.replaceChildren(
    ...view.switches.map((s) =>
      el('li', `${s.name} (dpid ${s.dpid}): ${s.connected ? 'connected' : 'not connected'}, ${s.flows}`, { 'data-switch': s.name, 'data-connected': String(s.connected) }),
    ),
  );
  const links = doc.getElementById('link-list') as HTMLElement;
  links.replaceChildren(
    ...view.links.map((l) =>
      el('li', `${l.linkId.replace('~', ' – ')}: ${l.up ? `up${l.label ? `, ${l.label}` : ''}` : `down (${l.why ?? ''})`}`, {
        'data-link': l.linkId,
        'data-state': l.up ? 'up' : 'down',
      }),
    ),
  );
  const groups = doc.getElementById('vpc-list') as HTMLElement;
  groups.replaceChildren(
    ...view.groups.map((g) => {
      const section = el('section', undefined, { 'data-vpc': g.vpc });
      section.append(el('h3', g.title));
      const list = el('ul');
      list.append(...g.members.map((m) => el('li', `${m.name} ${m.ip} on ${m.switchId.slice(3)} port ${m.port}`, { 'data-member': m.name, 'data-kind': m.kind })));
      if (g.members.length === 0) list.append(el('li', 'no endpoints yet'));
      section.append(list);
      return section;
    }),
  );
  for (const id of ['trace-from', 'trace-to']) {
    const select = doc.getElementById(id) as HTMLSelectElement;
    const chosen = select.value;
    select.replaceChildren(
      ...view.groups.flatMap((g) => g.members.map((m) => el('option', `${m.name} (${m.ip}${g.vpc ? `, ${g.vpc}` : ''})`, { value: m.name }))),
    );
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  }
}

export function renderTrace(steps: string[], doc: Document = document): void {
  const list = doc.getElementById('trace-result') as HTMLElement;
  list.replaceChildren(...steps.map((s) => el('li', s)));
}
