/**
 * A private Open vSwitch for tests: the implementation lives in src/lab/lab-ovs.ts, shared with
 * `overcast lab --switches ovs`, so tests and labs start OVS the same way.
 *
 *   const ovs = await startOvs();
 *   await ovs.addBridge('br0', { ports: 3, datapathId: 0xabcn, controller: 'tcp:127.0.0.1:6653' });
 *   console.log(await ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br0'));
 *   await ovs.stop();
 */
import { ovsAvailable } from '../../src/lab/lab-ovs.js';

export {
  OVS_SCHEMA,
  addBridgeArgs,
  dummyPorts,
  ovsAvailable,
  startOvs,
  type BridgeOptions,
  type DummyPort,
  type OvsInstance,
  type StartOvsOptions,
} from '../../src/lab/lab-ovs.js';

let available: boolean | undefined;

/** Root and the OVS binaries: what the live Open vSwitch tests need. */
export function canRunOvs(): boolean {
  available ??= process.getuid?.() === 0 && ovsAvailable();
  return available;
}
