export * from './topology.js';
export { checkTopology, defaultPaths, type TopologyPaths } from './check-topology.js';
export { decodeTopology, type DecodedTopology } from './decode-topology.js';
export { parseTopology, fieldSegments, type TopologyProblem } from './parse-topology.js';
export * from './topology-graph.js';
export * from './paths.js';
export * from './mutate-topology.js';
export * from './generate-topology.js';
export * from './intent.js';
