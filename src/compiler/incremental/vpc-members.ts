/**
 * Which owners of a node read which VPCs, as recorded at their last compile: a VPC touched or whose
 * presence changed marks exactly those owners (their VPC may follow from other objects, e.g. a
 * volume's from its targets, so the node cannot look it up from the owner alone).
 */
const EMPTY: ReadonlySet<string> = new Set();

export class VpcMembers {
  private readonly vpcsOf = new Map<string, readonly string[]>();
  private readonly ownersIn = new Map<string, Set<string>>();

  /** Records the VPCs owner `id` reads now (none: forgotten). */
  set(id: string, vpcIds: readonly string[]): void {
    for (const vpcId of this.vpcsOf.get(id) ?? []) {
      const owners = this.ownersIn.get(vpcId);
      owners?.delete(id);
      if (owners?.size === 0) this.ownersIn.delete(vpcId);
    }
    if (vpcIds.length === 0) {
      this.vpcsOf.delete(id);
      return;
    }
    this.vpcsOf.set(id, vpcIds);
    for (const vpcId of vpcIds) {
      let owners = this.ownersIn.get(vpcId);
      if (!owners) this.ownersIn.set(vpcId, (owners = new Set()));
      owners.add(id);
    }
  }

  of(vpcId: string): ReadonlySet<string> {
    return this.ownersIn.get(vpcId) ?? EMPTY;
  }
}
