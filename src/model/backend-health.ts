/**
 * Who took a load balancer's backend out of the pool, and so who may put it back. A health prober
 * returns only the backends it took out itself; a mark made over REST stands until REST clears it
 * (an operator draining a backend that still answers probes). The owner is part of the intent, stored
 * with it, so a controller restart keeps both kinds of marks as they were.
 */
import type { LoadBalancer } from './intent.js';

/** Who marks a backend: an operator over REST, or the controller's health prober. */
export type HealthMarkSource = 'rest' | 'probe';

/**
 * The load balancer with one backend marked healthy (back in the pool, whoever took it out) or
 * unhealthy. A probe's mark never takes over a REST mark; a REST mark takes over a probe's. Lists stay
 * sorted, and `unhealthyByProbe` is left out when empty, so equal health compares equal.
 */
export function markBackendHealth(lb: LoadBalancer, endpointId: string, healthy: boolean, by: HealthMarkSource): LoadBalancer {
  const out = new Set(lb.unhealthy);
  const byProbe = new Set(lb.unhealthyByProbe ?? []);
  if (healthy) {
    out.delete(endpointId);
    byProbe.delete(endpointId);
  } else {
    if (by === 'rest') byProbe.delete(endpointId);
    else if (!out.has(endpointId)) byProbe.add(endpointId);
    out.add(endpointId);
  }
  return withUnhealthy(lb, [...out], [...byProbe]);
}

/** The load balancer with these unhealthy backends, `byProbe` the prober's among them (others dropped). */
export function withUnhealthy(lb: LoadBalancer, unhealthy: Iterable<string>, byProbe: Iterable<string>): LoadBalancer {
  const out = [...new Set(unhealthy)].sort();
  const outSet = new Set(out);
  const probe = [...new Set(byProbe)].filter((e) => outSet.has(e)).sort();
  const { unhealthyByProbe: _old, ...rest } = lb;
  return probe.length === 0 ? { ...rest, unhealthy: out } : { ...rest, unhealthy: out, unhealthyByProbe: probe };
}
