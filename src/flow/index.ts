export * from './packet-key.js';
export * from './fields.js';
export * from './match.js';
export * from './actions.js';
export * from './pipeline.js';
export * from './flow-entry.js';
export * from './flow-mod.js';
export * from './diff.js';
