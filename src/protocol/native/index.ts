export * from './messages.js';
export * from './framing.js';
export * from './version.js';
export { encodeMessage, encodePayload, decodeMessage, decodeFramed } from './codec.js';
export { FIELD_WIRE } from './flow-codec.js';
