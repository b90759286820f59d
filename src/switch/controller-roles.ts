/**
 * The roles of a switch's controllers (OpenFlow 1.3 section 6.3.7, which the native channel's role
 * message follows): each connection is `equal` until its controller asks otherwise; a `master`
 * request turns every other master into a slave; a slave may not change the tables or send packets,
 * and hears no packet-ins. A master or slave request carries a generation id: one older than the
 * newest the switch has seen (compared as 64-bit serial numbers) is refused, so a controller that
 * lost its mastership cannot take it back from the one elected after it.
 */
import type { ControllerRole } from '../protocol/index.js';

/** One controller connection's role, as the arbiter keeps it. */
export interface RoleHolder {
  role: ControllerRole;
}

export class RoleArbiter {
  private readonly holders = new Set<RoleHolder>();
  /** The newest generation id a master or slave request carried (undefined: none yet). */
  private generation: bigint | undefined;

  add(h: RoleHolder): void {
    this.holders.add(h);
  }

  remove(h: RoleHolder): void {
    this.holders.delete(h);
  }

  /** Applies a role request; returns why it is refused, or undefined when applied. */
  request(h: RoleHolder, role: ControllerRole, generationId: number | bigint): string | undefined {
    if (role === 'noChange') return undefined;
    if (role === 'master' || role === 'slave') {
      const g = BigInt.asUintN(64, BigInt(generationId));
      if (this.generation !== undefined && BigInt.asIntN(64, g - this.generation) < 0n) {
        return `generation id ${g} is older than ${this.generation}: a newer master was elected`;
      }
      this.generation = g;
    }
    if (role === 'master') for (const other of this.holders) if (other !== h && other.role === 'master') other.role = 'slave';
    h.role = role;
    return undefined;
  }

  /** Holders that hear asynchronous messages (packet-ins, flow-removed): masters and equals. */
  listeners(): RoleHolder[] {
    return [...this.holders].filter((h) => h.role !== 'slave');
  }
}
