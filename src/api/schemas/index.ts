export * from './common.js';
export * from './vpc.js';
export * from './endpoint.js';
export * from './topology.js';
export * from './elastic-ip.js';
export * from './volume.js';
export * from './security.js';
