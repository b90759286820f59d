/**
 * The logical pipeline: tables are data, declared once, referred to by name (never by number).
 * Faucet-style: each table says what it does and what happens on a miss.
 */
export type MissBehaviour = 'drop' | 'controller' | 'next';

export interface TableSpec {
  id: number;
  name: string;
  does: string;
  miss: MissBehaviour;
}

export const PIPELINE = [
  { id: 0, name: 'INGRESS', does: 'in_port -> tenant (VPC id into metadata); port security', miss: 'drop' },
  { id: 1, name: 'ARP', does: 'answer ARP for known addresses in the switch; unknown -> drop', miss: 'drop' },
  { id: 2, name: 'ACCESS', does: 'ACLs, volume access, security groups', miss: 'next' },
  { id: 3, name: 'NAT_LB', does: 'elastic-IP DNAT; load-balancer VIP -> select group; empty pool -> controller', miss: 'next' },
  { id: 4, name: 'ROUTE', does: 'routing between subnets of one VPC: rewrite MACs, decrement TTL', miss: 'next' },
  { id: 5, name: 'FORWARD', does: 'destination -> next hop along the switch graph; tenant id on inter-switch links', miss: 'drop' },
  { id: 6, name: 'EGRESS', does: 'elastic-IP SNAT, strip the tenant tag, output', miss: 'drop' },
] as const satisfies readonly TableSpec[];

export type TableName = (typeof PIPELINE)[number]['name'];

export const TABLE = Object.fromEntries(PIPELINE.map((t) => [t.name, t.id])) as { [N in TableName]: number };

export const TABLE_COUNT = PIPELINE.length;

export function tableName(id: number): string {
  return PIPELINE.find((t) => t.id === id)?.name ?? `table${id}`;
}
