/** link.down / link.up from topology changes: set down or up, added up, removed; nothing else. */
import { describe, expect, it } from 'vitest';
import { linkEvents } from '../../../src/controller/events.js';
import type { Topology } from '../../../src/model/index.js';

const topo = (links: [string, string, boolean][]): Topology => ({
  name: 't',
  switches: [],
  hosts: [],
  links: links.map(([a, b, up]) => {
    const [sa, pa] = a.split(':');
    const [sb, pb] = b.split(':');
    return { a: { switch: sa, port: Number(pa) }, b: { switch: sb, port: Number(pb) }, up };
  }),
});

describe('link events', () => {
  it('names links by id when set down or up, added up, or removed', () => {
    const before = topo([
      ['s2:1', 's1:3', true],
      ['s1:4', 's3:2', true],
      ['s2:2', 's3:1', false],
    ]);
    const after = topo([
      ['s2:1', 's1:3', false],
      ['s2:2', 's3:1', true],
      ['s1:5', 's4:1', true],
      ['s1:6', 's4:2', false],
    ]);
    expect(linkEvents([{ kind: 'topology', before, topology: after }])).toEqual([
      { type: 'link.down', link: 's1:3~s2:1' },
      { type: 'link.up', link: 's2:2~s3:1' },
      { type: 'link.up', link: 's1:5~s4:1' },
      { type: 'link.down', link: 's1:4~s3:2' },
    ]);
  });

  it('says nothing when the links stay as they were', () => {
    const t = topo([['s1:1', 's2:1', true]]);
    expect(linkEvents([{ kind: 'topology', before: t, topology: { ...t, name: 'renamed' } }])).toEqual([]);
  });
});
