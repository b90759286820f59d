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
  { id: 0, name: 'INGRESS', does: 'in_port -> tenant (VPC id into metadata); port security; a link\'s top MPLS label (VNI block)', miss: 'drop' },
  { id: 1, name: 'TENANT', does: 'a link frame\'s bottom MPLS label -> its VPC (VNI into metadata); unknown -> drop', miss: 'drop' },
  { id: 2, name: 'ARP', does: 'answer ARP for known addresses in the switch; unknown -> drop', miss: 'drop' },
  { id: 3, name: 'ACCESS', does: 'ACLs, volume access, security groups', miss: 'next' },
  { id: 4, name: 'NAT_LB', does: 'elastic-IP DNAT; load-balancer VIP -> select group; empty pool -> controller', miss: 'next' },
  { id: 5, name: 'ROUTE', does: 'routing between subnets of one VPC: rewrite MACs, decrement TTL', miss: 'next' },
  { id: 6, name: 'FORWARD', does: 'destination -> next hop along the switch graph; tenant label stack on inter-switch links', miss: 'drop' },
  { id: 7, name: 'EGRESS', does: 'elastic-IP SNAT, output', miss: 'drop' },
] as const satisfies readonly TableSpec[];

export type TableName = (typeof PIPELINE)[number]['name'];

export const TABLE = Object.fromEntries(PIPELINE.map((t) => [t.name, t.id])) as { [N in TableName]: number };

export const TABLE_COUNT = PIPELINE.length;

export function tableName(id: number): string {
  return PIPELINE.find((t) => t.id === id)?.name ?? `table${id}`;
}
