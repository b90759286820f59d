/** What a lab of several controllers adds: their names, and when its switches count as synced. */

/** A lab cluster member's lease: its switches fail over this long after it is killed. */
export const DEFAULT_LAB_LEASE_TTL_S = 3;

/** `controller`, then `controller2`, `controller3`...: the first keeps a one-controller lab's name. */
export function controllerNames(n: number): string[] {
  return Array.from({ length: Math.max(1, n) }, (_, i) => (i === 0 ? 'controller' : `controller${i + 1}`));
}

export interface SwitchStatusRow {
  dpid: number;
  connected: boolean;
  desiredFlows: number;
  installedFlows: number;
  role?: 'master' | 'slave';
}

/**
 * Dpids synced, from every controller's GET /v1/switches: connected to every controller, and its
 * tables equal to the desired ones at the controller that pushes to it (its master in a cluster; the
 * only controller otherwise).
 */
export function clusterSynced(views: readonly (readonly SwitchStatusRow[])[]): number[] {
  const dpids = new Set(views.flatMap((v) => v.map((s) => s.dpid)));
  const ready: number[] = [];
  for (const dpid of dpids) {
    const rows = views.map((v) => v.find((s) => s.dpid === dpid));
    if (!rows.every((r) => r?.connected)) continue;
    const pusher = views.length === 1 ? rows[0] : rows.find((r) => r?.role === 'master');
    if (pusher && pusher.installedFlows === pusher.desiredFlows) ready.push(dpid);
  }
  return ready;
}
