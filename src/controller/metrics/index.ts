export { ControllerMetrics, switchNamesOf, type ControllerMetricsComponents } from './controller-metrics.js';
export { createStatsPoller, DEFAULT_STATS_INTERVAL_MS, type StatsPoller, type StatsPollerOptions, type StatsPollerComponents, type LinkRate, type Rate } from './stats-poller.js';
export { attributeFlow, dropReason, isDropFlow, type FlowTarget, type AttributionContext } from './flow-attribution.js';
export { timedStore } from './timed-store.js';
export { PacketByteTotals, CounterTotals, increase } from './counter-totals.js';
