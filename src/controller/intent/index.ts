export { createIntentService, type IntentService, type IntentResources, type IntentServiceOptions, type IntentServiceComponents } from './service.js';
export type { CommittedChange, CommittedChangeListener, IntentObjects, ObjectChange, ObjectKind, TopologyChange } from './changes.js';
export type { Page, PageRequest } from './pagination.js';
export { VpcResource, type CreateVpcInput, type UpdateVpcInput } from './vpcs.js';
export { SubnetResource, MAX_SUBNET_PREFIX, type CreateSubnetInput } from './subnets.js';
export { EndpointResource, ENDPOINT_MAC_BASE, type CreateEndpointInput, type UpdateEndpointInput, type EndpointFilter } from './endpoints.js';
export { ElasticIpResource, type AllocateElasticIpInput, type UpdateElasticIpInput } from './elastic-ips.js';
export { LoadBalancerResource, MAX_REVISION_WEIGHT, type CreateLoadBalancerInput, type UpdateLoadBalancerInput } from './load-balancers.js';
export { TopologyResource } from './topology.js';
