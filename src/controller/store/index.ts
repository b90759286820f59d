export * from './intent-store.js';
export * from './sqlite-intent-store.js';
export { SCHEMA_VERSION } from './schema.js';
export { encodeTopologyDocument, decodeTopologyDocument } from './topology-document.js';
export { CHECKPOINT_IDLE_MS, CHECKPOINT_MAX_DELAY_MS, CHECKPOINT_SWEEP_MS, type CheckpointOptions, type CheckpointResult, type WalCheckpointer } from './wal-checkpointer.js';
