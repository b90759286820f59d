/**
 * The compiler's working copy of volumes and attachments, with the indexes an incremental recompute
 * needs, and the rules that keep every flow to one owner (the store rejects most conflicts; the
 * compiler never trusts it, so an incremental result always equals a full one):
 * - A target's drop flow belongs to the smallest volume id naming it; a pair of targets' replication
 *   flow to the smallest volume naming both.
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

export class VolumeState {
  readonly volumes = new Map<string, Volume>();
  readonly attachments = new Map<string, Attachment>();
  private readonly byTarget = new Map<string, Set<string>>();
  private readonly byVolume = new Map<string, Set<string>>();
  private readonly byEndpoint = new Map<string, Set<string>>();

  putVolume(v: Volume): void {
    this.deleteVolume(v.id);
    this.volumes.set(v.id, v);
    for (const t of v.targets) addTo(this.byTarget, t, v.id);
  }

  deleteVolume(id: string): void {
    const old = this.volumes.get(id);
    if (!old) return;
    this.volumes.delete(id);
    for (const t of old.targets) removeFrom(this.byTarget, t, id);
  }

  putAttachment(a: Attachment): void {
    this.deleteAttachment(a.id);
    this.attachments.set(a.id, a);
    addTo(this.byVolume, a.volumeId, a.id);
    addTo(this.byEndpoint, a.endpointId, a.id);
  }

  deleteAttachment(id: string): void {
    const old = this.attachments.get(id);
    if (!old) return;
    this.attachments.delete(id);
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
    return firstId(this.volumesOfTarget(target)) === id;
  }

  /** Does volume `id` own the replication flows between targets `a` and `b`? */
  ownsPair(id: string, a: string, b: string): boolean {
    for (const other of this.volumesOfTarget(a)) if (other < id && this.volumes.get(other)?.targets.includes(b)) return false;
    return true;
  }

  /**
   * Does attachment `id` own its endpoint's allow flow to `target` on `port`: does no attachment of the
   * same endpoint with a smaller id grant it too?
   */
  ownsGrant(id: string, endpointId: string, target: string, port: number): boolean {
    for (const other of this.attachmentsOfEndpoint(endpointId)) {
      if (other >= id) continue;
      const v = this.volumes.get(this.attachments.get(other)?.volumeId ?? '');
      if (v && v.targets.includes(target) && v.ports.includes(port)) return false;
    }
    return true;
  }
}
