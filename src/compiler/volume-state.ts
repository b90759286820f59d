/**
 * The compiler's working copy of volumes and attachments, with the indexes an incremental recompute
 * needs, and the rules that keep every flow to one owner (the store rejects most conflicts; the
 * compiler never trusts it, so an incremental result always equals a full one):
 * - A target's drop flow belongs to the smallest volume id naming it; a pair of targets' replication
 *   flow to the smallest volume naming both. Both owners are kept up to date on every change (a
 *   target of an array serves thousands of volumes: a lookup must not walk them).
 * - An attached endpoint's allow flow to one target and port belongs to the smallest attachment id of
 *   that endpoint granting it.
 */
import type { Attachment, Volume } from '../model/index.js';

const EMPTY: ReadonlySet<string> = new Set();

function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  let ids = index.get(key);
  if (!ids) index.set(key, (ids = new Set()));
  ids.add(id);
}

function removeFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  ids?.delete(id);
  if (ids?.size === 0) index.delete(key);
}

/** The smallest of a set of ids (ids compare as strings: any fixed order would do). */
export function firstId(ids: Iterable<string>): string | undefined {
  let first: string | undefined;
  for (const id of ids) if (first === undefined || id < first) first = id;
  return first;
}

/** Every unordered pair of distinct targets as `a|b` with a < b. */
function pairKeys(targets: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < targets.length; i++) {
    for (let j = i + 1; j < targets.length; j++) {
      const [a, b] = targets[i] < targets[j] ? [targets[i], targets[j]] : [targets[j], targets[i]];
      out.push(`${a}|${b}`);
    }
  }
  return out;
}

export class VolumeState {
  readonly volumes = new Map<string, Volume>();
  readonly attachments = new Map<string, Attachment>();
  private readonly byTarget = new Map<string, Set<string>>();
  private readonly byVolume = new Map<string, Set<string>>();
  private readonly byEndpoint = new Map<string, Set<string>>();
  /** The volume owning each target's drop, and each pair's (`a|b`, a < b) replication flows. */
  private readonly targetOwner = new Map<string, string>();
  private readonly pairOwner = new Map<string, string>();
  /** Per endpoint with several attachments: the attachment owning each `target|port` grant (built when asked, dropped on a change). */
  private readonly grantOwners = new Map<string, Map<string, string>>();

  /** Stores a volume; returns the volumes whose ownership of a target or pair changed (old and new owners). */
  putVolume(v: Volume): Set<string> {
    const changed = this.deleteVolume(v.id);
    this.volumes.set(v.id, v);
    this.forgetGrants(v.id);
    const targets = [...new Set(v.targets)];
    for (const t of targets) {
      addTo(this.byTarget, t, v.id);
      this.claim(this.targetOwner, t, v.id, changed);
    }
    for (const key of pairKeys(targets)) this.claim(this.pairOwner, key, v.id, changed);
    return changed;
  }

  /** Forgets a volume; returns the volumes whose ownership changed (it and its successors). */
  deleteVolume(id: string): Set<string> {
    const changed = new Set<string>();
    const old = this.volumes.get(id);
    if (!old) return changed;
    this.volumes.delete(id);
    this.forgetGrants(id);
    const targets = [...new Set(old.targets)];
    for (const t of targets) removeFrom(this.byTarget, t, id);
    for (const t of targets) {
      if (this.targetOwner.get(t) !== id) continue;
      changed.add(id);
      this.succeed(this.targetOwner, t, firstId(this.volumesOfTarget(t)), changed);
    }
    for (const key of pairKeys(targets)) {
      if (this.pairOwner.get(key) !== id) continue;
      changed.add(id);
      const [a, b] = key.split('|');
      this.succeed(this.pairOwner, key, firstId([...this.volumesOfTarget(a)].filter((x) => this.volumes.get(x)?.targets.includes(b))), changed);
    }
    return changed;
  }

  /** The grant owners of every endpoint attached to the volume (its targets or ports changed). */
  private forgetGrants(volumeId: string): void {
    for (const a of this.attachmentsOfVolume(volumeId)) {
      const x = this.attachments.get(a);
      if (x) this.grantOwners.delete(x.endpointId);
    }
  }

  private succeed(owners: Map<string, string>, key: string, next: string | undefined, changed: Set<string>): void {
    if (next === undefined) owners.delete(key);
    else {
      owners.set(key, next);
      changed.add(next);
    }
  }

  private claim(owners: Map<string, string>, key: string, id: string, changed: Set<string>): void {
    const was = owners.get(key);
    if (was !== undefined && was <= id) return;
    if (was !== undefined) changed.add(was);
    owners.set(key, id);
    changed.add(id);
  }

  putAttachment(a: Attachment): void {
    this.deleteAttachment(a.id);
    this.attachments.set(a.id, a);
    this.grantOwners.delete(a.endpointId);
    addTo(this.byVolume, a.volumeId, a.id);
    addTo(this.byEndpoint, a.endpointId, a.id);
  }

  deleteAttachment(id: string): void {
    const old = this.attachments.get(id);
    if (!old) return;
    this.attachments.delete(id);
    this.grantOwners.delete(old.endpointId);
    removeFrom(this.byVolume, old.volumeId, id);
    removeFrom(this.byEndpoint, old.endpointId, id);
  }

  /** Volumes naming the endpoint as a target. */
  volumesOfTarget(endpointId: string): ReadonlySet<string> {
    return this.byTarget.get(endpointId) ?? EMPTY;
  }

  attachmentsOfVolume(volumeId: string): ReadonlySet<string> {
    return this.byVolume.get(volumeId) ?? EMPTY;
  }

  attachmentsOfEndpoint(endpointId: string): ReadonlySet<string> {
    return this.byEndpoint.get(endpointId) ?? EMPTY;
  }

  /** Does volume `id` own the drop flow of `target` (the smallest volume naming it)? */
  ownsTarget(id: string, target: string): boolean {
    return this.targetOwner.get(target) === id;
  }

  /** Does volume `id` own the replication flows between targets `a` and `b` (the smallest volume naming both)? */
  ownsPair(id: string, a: string, b: string): boolean {
    return this.pairOwner.get(a < b ? `${a}|${b}` : `${b}|${a}`) === id;
  }

  /**
   * Does attachment `id` own its endpoint's allow flow to `target` on `port`: does no attachment of the
   * same endpoint with a smaller id grant it too?
   */
  ownsGrant(id: string, endpointId: string, target: string, port: number): boolean {
    const mine = this.attachmentsOfEndpoint(endpointId);
    if (mine.size === 1) return true;
    let owners = this.grantOwners.get(endpointId);
    if (!owners) {
      owners = new Map();
      for (const a of mine) {
        const v = this.volumes.get(this.attachments.get(a)?.volumeId ?? '');
        if (!v) continue;
        for (const t of v.targets) {
          for (const p of v.ports) {
            const key = `${t}|${p}`;
            const was = owners.get(key);
            if (was === undefined || a < was) owners.set(key, a);
          }
        }
      }
      this.grantOwners.set(endpointId, owners);
    }
    return owners.get(`${target}|${port}`) === id;
  }

}
