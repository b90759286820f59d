/**
 * The records of committed intent changes, as the intent service reports them to its listeners (the
 * intent runtime, events, webhooks). Each carries whole values before and after, so a consumer needs
 * nothing else to act on it.
 */
import type { ElasticIp, Endpoint, LoadBalancer, NetworkAcl, SecurityGroup, Subnet, Topology, Vpc } from '../../model/index.js';

/** The stored intent objects by kind; the kinds are the store's id kinds (`ID_PREFIX`). */
export interface IntentObjects {
  vpc: Vpc;
  subnet: Subnet;
  endpoint: Endpoint;
  elasticIp: ElasticIp;
  loadBalancer: LoadBalancer;
  securityGroup: SecurityGroup;
  networkAcl: NetworkAcl;
}
export type ObjectKind = keyof IntentObjects;

/** One change of one object. `before`/`after` are whole values: a consumer needs nothing else. */
export type ObjectChange<K extends string, T> =
  | { readonly kind: K; readonly op: 'add'; readonly after: T }
  | { readonly kind: K; readonly op: 'update'; readonly before: T; readonly after: T }
  | { readonly kind: K; readonly op: 'delete'; readonly before: T };

/** A change of an object of kind K (a member of CommittedChange). */
export type ObjectChangeOf<K extends ObjectKind> = { [P in K]: ObjectChange<P, IntentObjects[P]> }[K];

export interface TopologyChange {
  readonly kind: 'topology';
  readonly before: Topology;
  readonly topology: Topology;
}

/** A change the intent service committed: stored, applied in memory, then reported. */
export type CommittedChange = ObjectChangeOf<ObjectKind> | TopologyChange;

/**
 * Called once per committed transaction with its changes in the order they apply (a VPC delete
 * carries its subnets' deletes first). Called synchronously, after the commit and the in-memory update.
 */
export type CommittedChangeListener = (changes: readonly CommittedChange[]) => void;
