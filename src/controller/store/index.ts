export * from './intent-store.js';
export { SCHEMA_VERSION } from './schema.js';
export { encodeTopologyDocument, decodeTopologyDocument } from './topology-document.js';
