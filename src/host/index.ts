export { TestHost, type TestHostOptions, type ReceivedDatagram, type PingOutcome, type HostCounters } from './test-host.js';
export { createHostControlServer } from './control-server.js';
