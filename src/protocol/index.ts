export * from './native/index.js';
// OpenFlow 1.3 lives in its own namespace (its message names overlap the native channel's).
export * as of13 from './openflow13/index.js';
