export * from './cookies.js';
export { PRIORITY } from './priorities.js';
export type { CompileStep, Emit, FlowSpec } from './compile-step.js';
export { createFabricContext, type FabricContext } from './fabric-context.js';
export { ingressStep } from './compile-ingress.js';
export { arpStep } from './compile-arp.js';
export { forwardStep } from './compile-forward.js';
export * from './compile-fabric.js';
export { arpReplyActions } from './arp-reply.js';
export * from './vpc-encoding.js';
export { compileEndpointFlows, compileSubnetFlows, compileVpcFlows, type EndpointPlan, type OwnerFlows, type VpcPlan } from './compile-vpc-flows.js';
export { addSubnetHealthFlows, healthReplyFlow } from './compile-health.js';
export { compileElasticIpFlows, compileGatewayFlows, elasticIpMac, EIP_MAC_BASE, UPLINK_METADATA, type ElasticIpPlan, type GatewayPort } from './compile-elastic-ip.js';
export {
  backendWeights,
  compileLoadBalancerFlows,
  LB_WEIGHT_SCALE,
  loadBalancerGroupId,
  type LbBackend,
  type LoadBalancerPlan,
  type OwnerGroups,
} from './compile-load-balancer.js';
export { coldFunctionOfCookie, coldTargetOfCookie, functionKey } from './cold-start.js';
export { OwnerRegistry, type OwnerKind, type OwnerName } from './owner-registry.js';
export {
  createIncrementalCompiler,
  fullCompile,
  type CompilerStats,
  type IncrementalCompiler,
  type IntentChange,
  type SwitchDelta,
  type TablesDelta,
} from './incremental-compiler.js';
export {
  buildTraceFrame,
  traceIntent,
  type ExitTarget,
  type HeaderSummary,
  type IntentTrace,
  type TraceHop,
  type TraceOptions,
  type TracePacket,
  type TraceStart,
  type TraceTableStep,
} from './trace-intent.js';
export {
  resolveTraceEnd,
  traceBetween,
  traceBetweenJson,
  traceEndJson,
  tracePacketJson,
  traceStartBetween,
  type TraceBetweenQuery,
  type TraceBetweenResult,
  type TraceEnd,
  type TraceL4,
  type TracePacketStart,
} from './trace-ends.js';
export { traceJson, headerValueText, type IntentTraceJson, type TraceHopJson, type HeaderSummaryJson } from './trace-json.js';
export { attachmentMeterId, compileQosMeters, qosMeterIds, QOS_BURST_MS, SECOND_METER_OFFSET, type OwnerMeters } from './compile-volume-qos.js';
