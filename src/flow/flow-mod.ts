/** Channel-neutral southbound messages about flows and groups (both codecs map to and from these). */
import type { FlowEntry, GroupEntry } from './flow-entry.js';

export type FlowModCommand = 'add' | 'modify' | 'modifyStrict' | 'delete' | 'deleteStrict';

export interface FlowMod {
  command: FlowModCommand;
  flow: FlowEntry;
  /** For modify/delete: only flows whose cookie & cookieMask equals flow.cookie & cookieMask. */
  cookieMask?: number;
  /** For delete: only flows that output to this port (PORT.ANY = no restriction). */
  outPort?: number;
  /** For delete: only flows that use this group. */
  outGroup?: number;
  /** OpenFlow's OFPTT_ALL for delete: every table. */
  allTables?: boolean;
}

export type GroupModCommand = 'add' | 'modify' | 'delete';

export interface GroupMod {
  command: GroupModCommand;
  group: GroupEntry;
}
