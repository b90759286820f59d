/**
 * Run by durability.test.ts as a child process: opens the store at argv[2] and changes intent without
 * pause, printing one line per change only after the call returned (the change is committed). The test
 * kills it with SIGKILL at a random moment and checks the store against the printed lines.
 *
 *   vpc <id>            subnet <id> <vpcId>            ep <id> <subnetId>            del <vpcId>
 *
 * A delete is announced before it is made (`> epdel <id>`, `> del <vpcId>`): killed between its commit
 * and its ack, the store legitimately lacks a row the acks still promise, and the test must know which.
 */
import { createIntentService } from '../../../src/controller/intent/index.js';
import { openIntentStore } from '../../../src/controller/store/index.js';
import type { Topology } from '../../../src/model/index.js';

export const CHILD_PORTS = 4000;
const topology: Topology = {
  name: 'durability',
  switches: [{ name: 's1', dpid: 1, ports: Array.from({ length: CHILD_PORTS }, (_, i) => ({ number: i + 1 })) }],
  links: [],
  hosts: [],
};

const store = openIntentStore(process.argv[2]);
const svc = await createIntentService({ seedTopology: topology }, { store });
// Pipes to the parent are synchronous on Linux: a printed line has left this process.
const ack = (line: string) => process.stdout.write(`${line}\n`);
const freePorts = Array.from({ length: CHILD_PORTS }, (_, i) => CHILD_PORTS - i);
const live: { vpc: string; endpoints: { id: string; port: number }[] }[] = [];

for (let round = 0; round < 1000; round++) {
  const vpc = await svc.vpcs.create({ name: `v${round}`, cidr: '10.0.0.0/16' });
  ack(`vpc ${vpc.id}`);
  const subnet = await svc.subnets.create(vpc.id, { cidr: '10.0.1.0/24' });
  ack(`subnet ${subnet.id} ${vpc.id}`);
  const endpoints: { id: string; port: number }[] = [];
  for (let k = 0; k < 3; k++) {
    const port = freePorts.pop() as number;
    const ep = await svc.endpoints.create({ kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port, labels: { function: `f${round}`, revision: String(k) } });
    endpoints.push({ id: ep.id, port });
    ack(`ep ${ep.id} ${subnet.id}`);
  }
  live.push({ vpc: vpc.id, endpoints });
  // Every third round, tear an older VPC down: endpoint deletes, then one transaction for VPC + subnet.
  if (round % 3 === 2) {
    const old = live.shift();
    if (old) {
      for (const e of old.endpoints) {
        ack(`> epdel ${e.id}`);
        await svc.endpoints.delete(e.id);
        freePorts.push(e.port);
        ack(`epdel ${e.id}`);
      }
      ack(`> del ${old.vpc}`);
      await svc.vpcs.delete(old.vpc);
      ack(`del ${old.vpc}`);
    }
  }
}
store.close();
ack('done');
