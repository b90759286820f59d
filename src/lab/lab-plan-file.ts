/** The lab plan file (`<run dir>/plan.json`) as the lab routes in the controller process read it. */
import fs from 'node:fs';
import type { LabHostAddress } from './lab-service.js';
import type { LabPlan } from './lab-plan.js';

/**
 * The lab hosts' control addresses in a plan file (the topology's hosts, then attached ones); none while the file does not exist yet (the lab
 * writes it once every host has reported its ports, after the controller is up).
 */
export function readLabPlanHosts(file: string): LabHostAddress[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const plan = JSON.parse(text) as LabPlan;
  return [
    ...plan.hosts.map((h) => ({ name: h.name, control: h.control })),
    ...(plan.attached ?? []).map((h) => ({ name: h.name, control: h.control, ...(h.endpoint !== undefined ? { endpoint: h.endpoint } : {}) })),
  ];
}
