export * from './constants.js';
export * from './messages.js';
export { encodeOf13, encodeOf13Many, writeOf13 } from './encode.js';
export { decodeOf13 } from './decode.js';
export { encodeFlowMod, encodeFlowModsBatch, encodeBundledFlowModsBatch, writeFlowMod } from './flow-mod-codec.js';
export { createOf13FrameSplitter, type FrameSplitResult, type FrameSplitterOptions, type Of13FrameSplitter } from './frame-splitter.js';
export { OXM_SPECS, oxmSpecOf, type OxmSpec } from './oxm.js';
export { Writer } from './wire.js';
export { meterEntryOf, meterStatsOf, toOf13MeterMod } from './meter-codec.js';
