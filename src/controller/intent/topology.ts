/**
 * The topology as the API edits it: switches and links added, removed, or set up and down. The model
 * (src/model/mutate-topology.ts) checks each edit; this module names the API's fields in its errors
 * and refuses edits that would strand endpoints.
 */
import { OvercastError, type ProblemDetail } from '../../errors/index.js';
import { addLink, addSwitch, removeLink, removeSwitch, setLinkUp, type PortRef, type SwitchSpec, type Topology } from '../../model/index.js';
import { portKey } from '../store/intent-index.js';
import type { IntentContext, IntentDraft } from './context.js';
import { rebaseFields } from './validation.js';

export class TopologyResource {
  constructor(private readonly ctx: IntentContext) {}

  get(): Topology {
    return this.ctx.placement.topology;
  }

  addSwitch(sw: SwitchSpec): Promise<Topology> {
    return this.ctx.write((tx) => this.addSwitchNow(tx, sw));
  }

  private addSwitchNow(tx: IntentDraft, sw: SwitchSpec): Topology {
    const current = this.get();
    // The model reports a clash on the element checked later, which may be an existing host: name the new switch.
    if (current.hosts.some((h) => h.name === sw.name)) {
      throw new OvercastError('OVC_ERR_TOPO_DUPLICATE_NAME', `name "${sw.name}" is already used by a host`, 'body.name');
    }
    const i = current.switches.length;
    return this.change(tx, () => rebaseFields(() => addSwitch(current, sw), [[`switches[${i}]`, 'body']]));
  }

  /** Removes a switch with its links and hosts; refused while endpoints attach to it. */
  removeSwitch(name: string): Promise<Topology> {
    return this.ctx.write((tx) => this.removeSwitchNow(tx, name));
  }

  private removeSwitchNow(tx: IntentDraft, name: string): Topology {
    const dpid = this.ctx.placement.dpidOfSwitch(name);
    if (dpid !== undefined) {
      const attached = [...this.ctx.index.endpoints.values()].filter((e) => e.dpid === dpid);
      if (attached.length > 0) {
        throw new OvercastError('OVC_ERR_TOPO_SWITCH_HAS_ENDPOINTS', `switch ${name} still has ${attached.length} endpoints (${attached[0].id}...)`, 'params.name');
      }
    }
    return this.change(tx, () => rebaseFields(() => removeSwitch(this.get(), name), [['switch', 'params.name']]));
  }

  addLink(a: PortRef, b: PortRef, up = true): Promise<Topology> {
    return this.ctx.write((tx) => this.addLinkNow(tx, a, b, up));
  }

  private addLinkNow(tx: IntentDraft, a: PortRef, b: PortRef, up = true): Topology {
    const { placement, index } = this.ctx;
    const problems: ProblemDetail[] = [];
    for (const [end, field] of [[a, 'body.a'], [b, 'body.b']] as const) {
      const dpid = placement.dpidOfSwitch(end.switch);
      if (dpid === undefined) continue;
      // Checked here, not left to the model, so the problem names the new link's end (the model would
      // report it on whichever element it checks second, e.g. an existing host).
      const key = portKey(dpid, end.port);
      const owner = placement.usedPorts.get(key) ?? (index.portOwner.has(key) ? `endpoint ${index.portOwner.get(key)}` : undefined);
      if (owner) problems.push({ code: 'OVC_ERR_TOPO_PORT_IN_USE', message: `port ${end.switch}:${end.port} carries ${owner}`, field });
    }
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const i = this.get().links.length;
    return this.change(tx, () => rebaseFields(() => addLink(this.get(), a, b, up), [[`links[${i}]`, 'body']]));
  }

  /** `id` as linkId gives it (`s1:2~s2:1`). */
  removeLink(id: string): Promise<Topology> {
    return this.ctx.write((tx) => this.removeLinkNow(tx, id));
  }

  private removeLinkNow(tx: IntentDraft, id: string): Topology {
    return this.change(tx, () => rebaseFields(() => removeLink(this.get(), id), [['link', 'params.id']]));
  }

  setLinkUp(id: string, up: boolean): Promise<Topology> {
    return this.ctx.write((tx) => this.setLinkUpNow(tx, id, up));
  }

  private setLinkUpNow(tx: IntentDraft, id: string, up: boolean): Topology {
    return this.change(tx, () => rebaseFields(() => setLinkUp(this.get(), id, up), [['link', 'params.id']]));
  }

  /** Commits the edited topology, unless the edit returned the current one (no change). */
  private change(tx: IntentDraft, edit: () => Topology): Topology {
    const before = this.get();
    const after = edit();
    if (after === before) return before;
    tx.commit([{ kind: 'topology', before, topology: after }]);
    return after;
  }
}
