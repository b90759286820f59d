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
  { id: 3, name: 'ACL_EGRESS', does: 'network ACL of the source endpoint\'s subnet, outbound rules (stateless, rule-number order)', miss: 'next' },
  { id: 4, name: 'ACCESS', does: 'volume access: to a storage target only from attached endpoints on the volume\'s ports', miss: 'next' },
  { id: 5, name: 'SG_EGRESS', does: 'security groups of the source endpoint (stateful: conntrack in its zone, then the rules)', miss: 'next' },
  { id: 6, name: 'SG_EGRESS_COMMIT', does: 'a new connection SG_EGRESS allowed -> committed in the source endpoint\'s zone', miss: 'next' },
  { id: 7, name: 'NAT_LB', does: 'elastic-IP DNAT; load-balancer VIP -> select group; empty pool -> controller', miss: 'next' },
  { id: 8, name: 'ROUTE', does: 'routing between subnets of one VPC: rewrite MACs, decrement TTL', miss: 'next' },
  { id: 9, name: 'FORWARD', does: 'destination -> next hop along the switch graph; tenant label stack on inter-switch links', miss: 'drop' },
  { id: 10, name: 'ACL_INGRESS', does: 'network ACL of the destination endpoint\'s subnet, inbound rules', miss: 'next' },
  { id: 11, name: 'SG_INGRESS', does: 'security groups of the destination endpoint (stateful: conntrack in its zone, then the rules)', miss: 'next' },
  { id: 12, name: 'SG_INGRESS_COMMIT', does: 'a new connection SG_INGRESS allowed -> committed in the destination endpoint\'s zone', miss: 'next' },
  { id: 13, name: 'EGRESS', does: 'output to the local endpoint after the destination-side checks', miss: 'drop' },
] as const satisfies readonly TableSpec[];

export type TableName = (typeof PIPELINE)[number]['name'];

export const TABLE = Object.fromEntries(PIPELINE.map((t) => [t.name, t.id])) as { [N in TableName]: number };

export const TABLE_COUNT = PIPELINE.length;

/**
 * The table after `id`: "continue the pipeline" is written `gotoTable: nextTable(TABLE.X)`, never a
 * later table by name, so a stage inserted later is not skipped.
 */
export function nextTable(id: number): number {
  if (id + 1 >= TABLE_COUNT) throw new RangeError(`table ${id} is the pipeline's last`);
  return id + 1;
}

export function tableName(id: number): string {
  return PIPELINE.find((t) => t.id === id)?.name ?? `table${id}`;
}
