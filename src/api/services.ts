/** What the API needs from the rest of the process; routes depend on this, not on the server. */
import type { Controller } from '../controller/controller.js';
import type { LabService } from './routes/lab.js';

export interface ApiServices {
  controller: Controller;
  /** The topology as JSON (switches, links, hosts). */
  topology: () => unknown;
  /** Present when the controller runs a lab: host control (ping, UDP). */
  lab?: LabService;
}
