/**
 * Allocating an attachment's addresses (docs/volumes.md "Mount addresses"): its mount addresses in its
 * endpoint's own subnet (one, or one per target for Gluster) and its source address in the storage VPC
 * (the subnet of the volume's first target), each the lowest address no endpoint, gateway, load
 * balancer VIP or other attachment holds.
 */
import { OvercastError } from '../../errors/index.js';
import { formatCidr } from '../../net/index.js';
import { mountsPerTarget, type Attachment, type Endpoint, type MountAddress, type MountSource, type Subnet, type Volume } from '../../model/index.js';
import type { IntentView } from './context.js';
import { cidrOf } from '../store/intent-index.js';

/** Addresses handed out within one transaction, per subnet: the index learns of them only at commit. */
export class MountAllocator {
  private readonly chosen = new Map<string, Set<number>>();

  constructor(private readonly index: IntentView) {}

  /** The lowest free address of a subnet (OVC_ERR_SUBNET_EXHAUSTED when there is none). */
  take(subnet: Subnet, field: string): number {
    let mine = this.chosen.get(subnet.id);
    if (!mine) this.chosen.set(subnet.id, (mine = new Set()));
    const taken = mine;
    const ip = this.index.lowestFreeIp(subnet, (x) => this.index.isLoadBalancerVip(subnet.vpcId, x) || taken.has(x));
    if (ip === undefined) throw new OvercastError('OVC_ERR_SUBNET_EXHAUSTED', `subnet ${subnet.id} (${formatCidr(cidrOf(subnet))}) has no free address for a mount`, field);
    taken.add(ip);
    return ip;
  }

  /** The mount addresses of `endpoint` for volume `v`; those of `keep` (the attachment's own) stay where they are. */
  mounts(v: Volume, endpoint: Endpoint, keep?: readonly MountAddress[]): MountAddress[] {
    const subnet = this.subnet(endpoint.subnetId, 'body.endpoint');
    if (!mountsPerTarget(v.protocol)) return [keep?.find((m) => m.target === undefined) ?? { ip: this.take(subnet, 'body.endpoint') }];
    return v.targets.map((target) => keep?.find((m) => m.target === target) ?? { ip: this.take(subnet, 'body.targets'), target });
  }

  /** The source address of an attachment to `v`, in its first target's subnet. */
  source(v: Volume): MountSource {
    const first = this.index.endpoints.get(v.targets[0]);
    const subnet = this.subnet(first?.subnetId ?? '', 'body.targets');
    return { subnetId: subnet.id, ip: this.take(subnet, 'body.targets') };
  }

  private subnet(id: string, field: string): Subnet {
    const s = this.index.subnets.get(id);
    if (!s) throw new OvercastError('OVC_ERR_SUBNET_NOT_FOUND', `no subnet ${id}`, field);
    return s;
  }
}

/** The attachment with mount addresses following the volume's new targets (Gluster: one per target). */
export function remount(alloc: MountAllocator, v: Volume, a: Attachment, endpoint: Endpoint): Attachment {
  if (!a.mounts || !mountsPerTarget(v.protocol)) return a;
  return { ...a, mounts: alloc.mounts(v, endpoint, a.mounts) };
}
