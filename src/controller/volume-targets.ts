/**
 * volume.target-down / volume.target-up: a volume's target stops serving when the port it sits on goes
 * down or its switch disconnects, and serves again when they come back. The watcher listens to the
 * controller's own events (port.status, switch.disconnected, switch.connected), takes the target out of
 * each of its volumes' replica groups (or puts it back) through the intent, so the change is stored,
 * compiled and installed like any other (docs/volumes.md "Replicas"), and emits one event per volume
 * of the target, once per transition.
 */
import type { Intent } from '../model/index.js';
import type { ControllerEvent, ControllerEventBody, ControllerEvents } from './events.js';

export interface VolumeTargetWatchComponents {
  events: Pick<ControllerEvents, 'emit' | 'subscribe'>;
  /** The committed intent (volumes and their targets' ports). */
  intent(): Intent;
  /** Marks a volume's target in or out of service (IntentService.volumes.setTargetHealth). */
  setTargetHealth?(volumeId: string, endpointId: string, healthy: boolean): Promise<unknown>;
  /** Told when a health mark could not be committed (the volume went away meanwhile, the store refused). */
  onError?(err: unknown): void;
}

/** Starts watching; returns the unsubscribe function. */
export function watchVolumeTargets(components: VolumeTargetWatchComponents): () => void {
  const { events } = components;
  /** Targets that are down, with why (endpoint id -> reason). */
  const down = new Map<string, string>();

  /** Targets (endpoint ids) on a switch, or on one port of it, with the volumes they serve. */
  const targetsAt = (dpid: number, port: number | undefined): Map<string, string[]> => {
    const intent = components.intent();
    const out = new Map<string, string[]>();
    for (const v of intent.volumes?.values() ?? []) {
      for (const t of v.targets) {
        const e = intent.endpoints.get(t);
        if (!e || e.dpid !== dpid || (port !== undefined && e.port !== port)) continue;
        let vols = out.get(t);
        if (!vols) out.set(t, (vols = []));
        vols.push(v.id);
      }
    }
    return out;
  };

  const mark = (targets: Map<string, string[]>, up: boolean, reason: string) => {
    const out: ControllerEventBody[] = [];
    for (const [endpointId, volumes] of targets) {
      if (up && !down.has(endpointId)) {
        // Marked out before this controller started (stored with the intent): back in, no event.
        const stored = components.intent().volumes;
        for (const volumeId of volumes) {
          if (stored?.get(volumeId)?.unhealthy?.includes(endpointId)) components.setTargetHealth?.(volumeId, endpointId, true).catch((err: unknown) => components.onError?.(err));
        }
      }
      if (up === !down.has(endpointId)) continue;
      if (up) down.delete(endpointId);
      else down.set(endpointId, reason);
      for (const volumeId of volumes) {
        out.push(up ? { type: 'volume.target-up', volumeId, endpointId } : { type: 'volume.target-down', volumeId, endpointId, reason });
        components.setTargetHealth?.(volumeId, endpointId, up).catch((err: unknown) => components.onError?.(err));
      }
    }
    for (const e of out) events.emit(e);
  };

  return events.subscribe((e: ControllerEvent) => {
    if (e.type === 'port.status') mark(targetsAt(e.dpid, e.port), e.up, `port ${e.port} of dpid ${e.dpid} down (${e.reason})`);
    else if (e.type === 'switch.disconnected') mark(targetsAt(e.dpid, undefined), false, `switch ${e.dpid} disconnected`);
    else if (e.type === 'switch.connected') mark(targetsAt(e.dpid, undefined), true, '');
  });
}
