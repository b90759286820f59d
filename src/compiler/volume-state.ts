/**
 * The compiler's working copy of volumes and attachments, with the indexes an incremental recompute
 * needs, and the rules that keep every flow to one owner (the store rejects most conflicts; the
 * compiler never trusts it, so an incremental result always equals a full one):
 * - A target's drop flow belongs to the smallest volume id naming it; a pair of targets' replication
 *   flow to the smallest volume naming both. Both owners are kept up to date on every change (a
 *   target of an array serves thousands of volumes: a lookup must not walk them).
 * An endpoint's grants are one owner (incremental/attachment-node.ts), which gives each its smallest
 * granting attachment's cookie.
 */
import type { Attachment, Volume } from '../model/index.js';

const EMPTY: ReadonlySet<string> = new Set();

/**
 * Ids per key, a lone id kept bare (most volumes have one attachment: 64k one-member Sets would be
 * most of a full compile's allocations).
 */
class MultiIndex {
  private readonly byKey = new Map<string, string | Set<string>>();

  add(key: string, id: string): void {
    const ids = this.byKey.get(key);
    if (ids === undefined) this.byKey.set(key, id);
    else if (typeof ids === 'string') {
      if (ids !== id) this.byKey.set(key, new Set([ids, id]));
    } else ids.add(id);
  }

  delete(key: string, id: string): void {
    const ids = this.byKey.get(key);
    if (ids === undefined) return;
    if (typeof ids === 'string') {
      if (ids === id) this.byKey.delete(key);
    } else {
      ids.delete(id);
      if (ids.size === 1) this.byKey.set(key, ids.values().next().value as string);
    }
  }

  get(key: string): ReadonlySet<string> {
    const ids = this.byKey.get(key);
    if (ids === undefined) return EMPTY;
    return typeof ids === 'string' ? new Set([ids]) : ids;
  }

  keys(): Iterable<string> {
    return this.byKey.keys();
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Calls `fn` with each id of the key, allocating nothing. */
  forEach(key: string, fn: (id: string) => void): void {
    const ids = this.byKey.get(key);
    if (ids === undefined) return;
    if (typeof ids === 'string') fn(ids);
    else ids.forEach((id) => fn(id));
  }
}

/** The smallest of a set of ids (ids compare as strings: any fixed order would do). */
export function firstId(ids: Iterable<string>): string | undefined {
  let first: string | undefined;
  for (const id of ids) if (first === undefined || id < first) first = id;
  return first;
}

/** Every unordered pair of distinct targets as `a|b` with a < b. */
const NO_PAIRS: string[] = [];

function pairKeys(targets: readonly string[]): string[] {
  if (targets.length < 2) return NO_PAIRS;
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
  private readonly byTarget = new MultiIndex();
  private readonly byVolume = new MultiIndex();
  private readonly byEndpoint = new MultiIndex();
  /** The volume owning each target's drop, and each pair's (`a|b`, a < b) replication flows. */
  private readonly targetOwner = new Map<string, string>();
  private readonly pairOwner = new Map<string, string>();

  /** Stores a volume; returns the volumes whose ownership of a target or pair changed (old and new owners). */
  putVolume(v: Volume): Set<string> {
    const changed = this.volumes.has(v.id) ? this.deleteVolume(v.id) : new Set<string>();
    this.volumes.set(v.id, v);
    const targets = v.targets.length === 1 ? v.targets : [...new Set(v.targets)];
    for (const t of targets) {
      this.byTarget.add(t, v.id);
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
    const targets = [...new Set(old.targets)];
    for (const t of targets) this.byTarget.delete(t, id);
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
    this.byVolume.add(a.volumeId, a.id);
    this.byEndpoint.add(a.endpointId, a.id);
  }

  deleteAttachment(id: string): void {
    const old = this.attachments.get(id);
    if (!old) return;
    this.attachments.delete(id);
    this.byVolume.delete(old.volumeId, id);
    this.byEndpoint.delete(old.endpointId, id);
  }

  /** Volumes naming the endpoint as a target. */
  volumesOfTarget(endpointId: string): ReadonlySet<string> {
    return this.byTarget.get(endpointId);
  }

  /** Calls `fn` with each attachment of a volume. */
  forEachAttachmentOf(volumeId: string, fn: (attachment: Attachment) => void): void {
    this.byVolume.forEach(volumeId, (id) => {
      const a = this.attachments.get(id);
      if (a) fn(a);
    });
  }

  /** Is the volume attached at all? */
  isAttached(volumeId: string): boolean {
    return this.byVolume.has(volumeId);
  }

  /** Is the endpoint attached to a volume? */
  isAttachedEndpoint(endpointId: string): boolean {
    return this.byEndpoint.has(endpointId);
  }

  attachmentsOfEndpoint(endpointId: string): ReadonlySet<string> {
    return this.byEndpoint.get(endpointId);
  }

  /** Does volume `id` own the drop flow of `target` (the smallest volume naming it)? */
  ownsTarget(id: string, target: string): boolean {
    return this.targetOwner.get(target) === id;
  }

  /** Does volume `id` own the replication flows between targets `a` and `b` (the smallest volume naming both)? */
  ownsPair(id: string, a: string, b: string): boolean {
    return this.pairOwner.get(a < b ? `${a}|${b}` : `${b}|${a}`) === id;
  }

  /** The endpoints with at least one attachment. */
  attachedEndpoints(): Iterable<string> {
    return this.byEndpoint.keys();
  }

}
