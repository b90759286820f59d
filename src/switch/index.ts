export { createSoftSwitch, portMac, DEFAULT_TABLE_COUNT, type SoftSwitch, type SoftSwitchOptions, type SoftSwitchComponents, type SwitchStats, type PortInfo } from './soft-switch.js';
export { runSwitchCommand, parseSwitchCommandOptions, channelTlsProblems, type SwitchCommandOptions } from './run-switch-command.js';
export { parsePortSpec, formatPortSpec, parseControllerUrl, parseDpid, type PortSpec } from './port-spec.js';
export { createFlowClassifier, type ClassifierFactory } from './classifier-factory.js';
export { FlowTables, type InstalledFlow } from './flow-tables.js';
export { GroupTable } from './groups.js';
export { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export type { PortCounters, DropCounters } from './counters.js';
export type { ChannelStats } from './channel-client.js';
