export * from './of13-connection.js';
export * from './of13-server.js';
export { isFlowStatsReplyFrame, splitFlowStatsReply, strictDeleteFromRawEntry, type SplitFlowStats } from './foreign-flows.js';
export * from './ofctl-syntax.js';
