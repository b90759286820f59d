/**
 * The controller's registry: events by type, push durations and failures from the event stream,
 * webhook deliveries that keep counting when a subscription goes, switches known but not connected.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import { ControllerMetrics } from '../../../src/controller/metrics/index.js';
import type { WebhookDispatcher, WebhookSubscription } from '../../../src/controller/webhooks.js';

function sub(id: string, delivered: number, failed: number): WebhookSubscription {
  return { id, url: 'http://x', types: [], queued: 0, counters: { delivered, failed, dropped: 0, attempts: delivered + failed, retries: 0 } };
}

describe('controller metrics', () => {
  it('counts events, push outcomes and webhook deliveries; shows switches that are not connected', async () => {
    const controller = new Controller({ logger: pino({ level: 'silent' }), nowMs: () => 0 });
    await controller.setDesired(new Map([[7, { flows: [{ table: 0, priority: 0, match: {}, actions: [], cookie: 1 }], groups: [] }]]));
    let subs = [sub('a', 2, 1)];
    const webhooks = { list: () => subs } as unknown as WebhookDispatcher;
    const m = new ControllerMetrics({ controller, switchName: (d) => (d === 7 ? 'leaf7' : String(d)), webhooks, processMetrics: false });
    const off = m.attach(controller.events);
    controller.events.emit({ type: 'switch.synced', dpid: 7, added: 1, modified: 0, removed: 0, ms: 12 });
    controller.events.emit({ type: 'switch.sync-failed', dpid: 7, error: 'refused' });
    let text = await m.text();
    expect(text).toContain('overcast_events_total{type="switch.synced"} 1');
    expect(text).toContain('overcast_push_duration_seconds_bucket{le="0.025"} 1');
    expect(text).toContain('overcast_push_failures_total 1');
    expect(text).toContain('overcast_switch_connected{switch="leaf7",channel="none"} 0');
    expect(text).toContain('overcast_switch_flows{switch="leaf7",state="desired"} 1');
    expect(text).toContain('overcast_webhook_deliveries_total{result="delivered"} 2');
    // The subscription goes; what it delivered stays counted, and a new one adds to it.
    subs = [sub('b', 1, 0)];
    text = await m.text();
    expect(text).toContain('overcast_webhook_deliveries_total{result="delivered"} 3');
    expect(text).toContain('overcast_webhook_deliveries_total{result="failed"} 1');
    expect(m.contentType).toMatch(/^text\/plain/);
    off();
  });
});
