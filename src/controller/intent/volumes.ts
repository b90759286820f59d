/**
 * Volumes and their attachments: storage served by `kind: storage` endpoints (the targets, one per
 * replica or brick, all in one VPC) on the volume's ports, mounted by the endpoints attached to it.
 * An attachment is its own object (`att-N`), so attaching and detaching commit one small change each.
 */
import { isDeepStrictEqual } from 'node:util';
import { OvercastError, type ErrorCode, type ProblemDetail } from '../../errors/index.js';
import { ATTACHMENT_MODES, DEFAULT_VOLUME_PORTS, VOLUME_PROTOCOLS, type Attachment, type AttachmentMode, type Volume, type VolumeProtocol, type VolumeQos } from '../../model/index.js';
import type { CommittedChange } from './changes.js';
import type { IntentContext, IntentDraft, IntentView } from './context.js';
import { MountAllocator, remount } from './mount-addresses.js';
import type { Page, PageRequest } from './pagination.js';

/** A volume serves at most this many ports (each is a few flows per attachment and target). */
export const MAX_VOLUME_PORTS = 64;

export interface CreateVolumeInput {
  name: string;
  protocol: VolumeProtocol;
  /** Storage endpoint ids, one per replica or brick. */
  targets: string[];
  /** Default: the protocol's (DEFAULT_VOLUME_PORTS). */
  ports?: number[];
  qos?: VolumeQos;
}
export interface UpdateVolumeInput {
  targets?: string[];
  /** A new rate limit; null removes it. */
  qos?: VolumeQos | null;
}
export interface VolumeFilter {
  protocol?: VolumeProtocol;
  name?: string;
  /** Volumes this endpoint is a target of. */
  target?: string;
  /** Volumes this endpoint is attached to. */
  endpoint?: string;
}
export interface AttachInput {
  endpoint: string;
  /** Default rw. */
  mode?: AttachmentMode;
}

/** The VPC of a volume's targets (its storage network), or undefined when no target is known. */
export function volumeVpc(index: IntentView, v: Volume): string | undefined {
  for (const t of v.targets) {
    const e = index.endpoints.get(t);
    if (e) return e.vpcId;
  }
  return undefined;
}

export class VolumeResource {
  constructor(private readonly ctx: IntentContext) {}

  get(id: string): Volume {
    const v = this.ctx.index.volumes.get(id);
    if (!v) throw new OvercastError('OVC_ERR_VOLUME_NOT_FOUND', `no volume ${id}`, 'params.id');
    return v;
  }

  /** What a volume's JSON shows beside the volume itself: its targets' VPC and how many attachments it has. */
  summary(v: Volume): { vpc: string | undefined; attachments: number } {
    return { vpc: volumeVpc(this.ctx.index, v), attachments: this.ctx.index.attachmentIdsOfVolume(v.id).size };
  }

  list(filter: VolumeFilter, page: PageRequest): Page<Volume> {
    const { index } = this.ctx;
    const attachedTo = filter.endpoint === undefined ? undefined : new Set([...index.attachmentIdsOfEndpoint(filter.endpoint)].map((a) => index.attachments.get(a)?.volumeId));
    return this.ctx.list(
      'volume',
      page,
      (v) =>
        (filter.protocol === undefined || v.protocol === filter.protocol) &&
        (filter.name === undefined || v.name === filter.name) &&
        (filter.target === undefined || v.targets.includes(filter.target)) &&
        (attachedTo === undefined || attachedTo.has(v.id)),
    );
  }

  create(input: CreateVolumeInput): Promise<Volume> {
    return this.ctx.write((tx) => this.createIn(tx, input));
  }

  private createIn(tx: IntentDraft, input: CreateVolumeInput): Volume {
    const problems: ProblemDetail[] = [];
    if (!(VOLUME_PROTOCOLS as readonly string[]).includes(input.protocol)) {
      problems.push({ code: 'OVC_ERR_API_VALIDATION', message: `protocol must be one of ${VOLUME_PROTOCOLS.join(', ')}`, field: 'body.protocol' });
    }
    const ports = input.ports ?? DEFAULT_VOLUME_PORTS[input.protocol] ?? [];
    checkPorts(problems, ports);
    if (input.qos !== undefined) checkQos(problems, input.qos);
    this.checkTargets(problems, input.targets, undefined);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    return tx.create('volume', (id) => {
      const v: Volume = { id, name: input.name, protocol: input.protocol, targets: [...input.targets], ports: [...ports] };
      return input.qos === undefined ? v : { ...v, qos: { ...input.qos } };
    });
  }

  /** New targets (replicas added or removed) and/or a new rate limit. */
  update(id: string, input: UpdateVolumeInput): Promise<Volume> {
    return this.ctx.write((tx) => this.updateIn(tx, id, input));
  }

  private updateIn(tx: IntentDraft, id: string, input: UpdateVolumeInput): Volume {
    const before = this.get(id);
    const problems: ProblemDetail[] = [];
    if (input.targets !== undefined) this.checkTargets(problems, input.targets, before);
    if (input.qos) checkQos(problems, input.qos);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const { qos: oldQos, unhealthy: oldUnhealthy, ...rest } = before;
    const qos = input.qos === undefined ? oldQos : (input.qos ?? undefined);
    const targets = input.targets ? [...input.targets] : before.targets;
    // A target that leaves the volume leaves its unhealthy list too.
    const unhealthy = (oldUnhealthy ?? []).filter((t) => targets.includes(t));
    const after: Volume = { ...rest, targets, ...(qos ? { qos: { ...qos } } : {}), ...(unhealthy.length > 0 ? { unhealthy } : {}) };
    if (isDeepStrictEqual(after, before)) return before;
    // Gluster attachments have a mount address per target: they follow the new targets in the same transaction.
    const alloc = new MountAllocator(this.ctx.index);
    const remounted: CommittedChange[] = [];
    for (const attId of this.ctx.index.attachmentIdsOfVolume(id)) {
      const a = this.ctx.index.attachments.get(attId);
      const e = a && this.ctx.index.endpoints.get(a.endpointId);
      const now = a && e ? remount(alloc, after, a, e) : a;
      if (a && now !== a && !isDeepStrictEqual(now, a)) remounted.push({ kind: 'attachment', op: 'update', before: a, after: now as Attachment });
    }
    tx.commit([{ kind: 'volume', op: 'update', before, after }, ...remounted]);
    return after;
  }

  /**
   * Takes a target out of the volume's mount addresses' replica groups or puts it back (the target
   * watcher and the health prober call it); a no-op when it already is so.
   */
  setTargetHealth(id: string, endpointId: string, healthy: boolean): Promise<Volume> {
    return this.ctx.write((tx) => {
      const before = this.get(id);
      if (!before.targets.includes(endpointId)) throw new OvercastError('OVC_ERR_VOLUME_TARGET_NOT_FOUND', `endpoint ${endpointId} is no target of volume ${id}`, 'params.endpointId');
      const was = before.unhealthy ?? [];
      if (was.includes(endpointId) !== healthy) return before;
      const unhealthy = healthy ? was.filter((t) => t !== endpointId) : [...was, endpointId];
      const { unhealthy: _old, ...rest } = before;
      const after: Volume = unhealthy.length > 0 ? { ...rest, unhealthy } : rest;
      tx.commit([{ kind: 'volume', op: 'update', before, after }]);
      return after;
    });
  }

  /** Refused while the volume is attached (OVC_ERR_VOLUME_IN_USE). */
  delete(id: string): Promise<void> {
    return this.ctx.write((tx) => {
      const before = this.get(id);
      const attached = this.ctx.index.attachmentIdsOfVolume(id).size;
      if (attached > 0) throw new OvercastError('OVC_ERR_VOLUME_IN_USE', `volume ${id} has ${attached} attachment(s): detach them first`, 'params.id');
      tx.commit([{ kind: 'volume', op: 'delete', before }]);
    });
  }

  attach(volumeId: string, input: AttachInput): Promise<Attachment> {
    return this.ctx.write((tx) => this.attachIn(tx, volumeId, input));
  }

  private attachIn(tx: IntentDraft, volumeId: string, input: AttachInput): Attachment {
    const { index } = this.ctx;
    const v = this.get(volumeId);
    const problems: ProblemDetail[] = [];
    const report = (code: ErrorCode, field: string, message: string) => problems.push({ code, message, field });
    const mode = input.mode ?? 'rw';
    if (!(ATTACHMENT_MODES as readonly string[]).includes(mode)) report('OVC_ERR_API_VALIDATION', 'body.mode', `mode must be one of ${ATTACHMENT_MODES.join(', ')}`);
    const e = index.endpoints.get(input.endpoint);
    if (!e) report('OVC_ERR_ENDPOINT_NOT_FOUND', 'body.endpoint', `no endpoint ${input.endpoint}`);
    else if (this.attachmentOf(v.id, e.id)) report('OVC_ERR_VOLUME_ALREADY_ATTACHED', 'body.endpoint', `endpoint ${e.id} is already attached to volume ${v.id}`);
    if (problems.length > 0 || !e) throw OvercastError.fromProblems(problems);
    // Any VPC may mount it: the mount addresses are in the endpoint's subnet, translated to the targets.
    const alloc = new MountAllocator(index);
    const mounts = alloc.mounts(v, e);
    const source = alloc.source(v);
    return tx.create('attachment', (id) => ({ id, volumeId: v.id, endpointId: e.id, mode, mounts, source }));
  }

  getAttachment(volumeId: string, attachmentId: string): Attachment {
    this.get(volumeId);
    const a = this.ctx.index.attachments.get(attachmentId);
    if (!a || a.volumeId !== volumeId) throw new OvercastError('OVC_ERR_VOLUME_NOT_ATTACHED', `volume ${volumeId} has no attachment ${attachmentId}`, 'params.attachmentId');
    return a;
  }

  detach(volumeId: string, attachmentId: string): Promise<void> {
    return this.ctx.write((tx) => {
      const before = this.getAttachment(volumeId, attachmentId);
      tx.commit([{ kind: 'attachment', op: 'delete', before }]);
    });
  }

  /** A volume's attachments in id order, a page at a time. */
  listAttachments(volumeId: string, page: PageRequest): Page<Attachment> {
    this.get(volumeId);
    return this.ctx.list('attachment', page, (a) => a.volumeId === volumeId);
  }

  /** An endpoint's attachments (of every volume) in id order, a page at a time. */
  attachmentsOfEndpoint(endpointId: string, page: PageRequest): Page<Attachment> {
    if (!this.ctx.index.endpoints.has(endpointId)) throw new OvercastError('OVC_ERR_ENDPOINT_NOT_FOUND', `no endpoint ${endpointId}`, 'params.id');
    return this.ctx.list('attachment', page, (a) => a.endpointId === endpointId);
  }

  private attachmentOf(volumeId: string, endpointId: string): Attachment | undefined {
    const { index } = this.ctx;
    for (const a of index.attachmentIdsOfEndpoint(endpointId)) {
      const x = index.attachments.get(a);
      if (x?.volumeId === volumeId) return x;
    }
    return undefined;
  }

  /**
   * Targets: distinct storage endpoints in one VPC; a volume in use keeps its storage VPC (its
   * attachments' source addresses are there).
   */
  private checkTargets(problems: ProblemDetail[], targets: readonly string[], volume: Volume | undefined): void {
    const { index } = this.ctx;
    if (targets.length === 0) problems.push({ code: 'OVC_ERR_API_VALIDATION', message: 'a volume needs at least one target', field: 'body.targets' });
    const vpcs = new Set<string>();
    targets.forEach((t, i) => {
      const field = `body.targets[${i}]`;
      if (targets.indexOf(t) !== i) problems.push({ code: 'OVC_ERR_API_VALIDATION', message: `target ${t} is named twice`, field });
      const e = index.endpoints.get(t);
      if (!e) problems.push({ code: 'OVC_ERR_VOLUME_TARGET_NOT_FOUND', message: `no endpoint ${t}`, field });
      else if (e.kind !== 'storage') problems.push({ code: 'OVC_ERR_VOLUME_NOT_STORAGE', message: `endpoint ${t} is a ${e.kind} endpoint, not storage`, field });
      else vpcs.add(e.vpcId);
    });
    if (vpcs.size > 1) problems.push({ code: 'OVC_ERR_VOLUME_TARGETS_SPLIT', message: `targets are in several VPCs: ${[...vpcs].join(', ')}`, field: 'body.targets' });
    if (!volume || vpcs.size !== 1) return;
    const [vpc] = vpcs;
    const was = volumeVpc(index, volume);
    if (was !== undefined && was !== vpc && index.attachmentIdsOfVolume(volume.id).size > 0) {
      problems.push({ code: 'OVC_ERR_VOLUME_OTHER_VPC', message: `volume ${volume.id} is attached: its targets stay in ${was}, not ${vpc}`, field: 'body.targets' });
    }
  }
}

/** The changes that detach every attachment of an endpoint (it is being deleted). */
export function detachAllOf(index: IntentView, endpointId: string): CommittedChange[] {
  const out: CommittedChange[] = [];
  for (const id of index.attachmentIdsOfEndpoint(endpointId)) {
    const before = index.attachments.get(id);
    if (before) out.push({ kind: 'attachment', op: 'delete', before });
  }
  return out;
}

function checkPorts(problems: ProblemDetail[], ports: readonly number[]): void {
  const bad = ports.length === 0 || ports.length > MAX_VOLUME_PORTS || ports.some((p, i) => !Number.isInteger(p) || p < 1 || p > 0xffff || ports.indexOf(p) !== i);
  if (bad) problems.push({ code: 'OVC_ERR_VOLUME_BAD_PORTS', message: `ports must be 1..${MAX_VOLUME_PORTS} distinct integers 1..65535`, field: 'body.ports' });
}

function checkQos(problems: ProblemDetail[], qos: VolumeQos): void {
  for (const k of ['mbps', 'pps'] as const) {
    const x = qos[k];
    if (x !== undefined && (!Number.isInteger(x) || x < 1)) problems.push({ code: 'OVC_ERR_VOLUME_BAD_QOS', message: `qos.${k} must be a positive integer`, field: `body.qos.${k}` });
  }
}
