export * from './intent-store.js';
export * from './sqlite-intent-store.js';
export { SCHEMA_VERSION } from './schema.js';
export { encodeTopologyDocument, decodeTopologyDocument } from './topology-document.js';
