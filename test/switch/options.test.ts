import { describe, expect, it } from 'vitest';
import { backoffDelayMs, formatPortSpec, parseControllerUrl, parseDpid, parsePortSpec, parseSwitchCommandOptions, type SwitchCommandOptions } from '../../src/switch/index.js';

describe('switch options', () => {
  it('parses port specs with and without a peer', () => {
    expect(parsePortSpec('1=udp://127.0.0.1:5001@127.0.0.1:6001')).toEqual({
      portNo: 1,
      name: 'p1',
      localHost: '127.0.0.1',
      localPort: 5001,
      peerHost: '127.0.0.1',
      peerPort: 6001,
    });
    expect(parsePortSpec('3:uplink=udp://0.0.0.0:0')).toEqual({ portNo: 3, name: 'uplink', localHost: '0.0.0.0', localPort: 0 });
    const s = '2=udp://127.0.0.1:5002@10.0.0.2:6002';
    expect(formatPortSpec(parsePortSpec(s))).toBe(s);
  });

  it('rejects bad specs with OVC_ERR_SWITCH_BAD_OPTION', () => {
    for (const bad of ['1=tcp://a:1', '0=udp://h:1', '1=udp://h:70000', 'x=udp://h:1', '1=udp://h:1@h:0']) {
      expect(() => parsePortSpec(bad)).toThrow(expect.objectContaining({ code: 'OVC_ERR_SWITCH_BAD_OPTION' }));
    }
    expect(() => parseControllerUrl('http://h:1')).toThrow(expect.objectContaining({ code: 'OVC_ERR_SWITCH_BAD_OPTION' }));
    expect(() => parseDpid('-1')).toThrow(expect.objectContaining({ code: 'OVC_ERR_SWITCH_BAD_OPTION' }));
  });

  it('parses dpids and controller URLs', () => {
    expect(parseDpid('0x1f')).toBe(31);
    expect(parseDpid('42')).toBe(42);
    expect(parseControllerUrl('tcp://127.0.0.1:6653')).toEqual({ host: '127.0.0.1', port: 6653 });
  });

  it('reports every command-line problem at once', () => {
    try {
      parseSwitchCommandOptions({ dpid: 'x', controller: 'nope', port: ['1=udp://h:1', '1=udp://h:2', 'bad'], tableMiss: 'maybe' });
      expect.unreachable();
    } catch (e) {
      const problems = (e as { problems: { code: string; field?: string }[] }).problems;
      expect(problems.map((p) => p.field)).toEqual(['dpid', 'controller', 'port[2]', 'port', 'tlsCert', 'tableMiss']);
      expect(new Set(problems.map((p) => p.code))).toEqual(new Set(['OVC_ERR_SWITCH_BAD_OPTION', 'OVC_ERR_CHANNEL_TLS_OPTIONS']));
    }
    expect(parseSwitchCommandOptions({ dpid: '5', controller: 'tcp://localhost:6653', insecureTcp: true, port: ['1=udp://h:1'], tables: '8', tableMiss: 'drop' })).toMatchObject({
      dpid: 5,
      controller: { host: 'localhost', port: 6653 },
      tableCount: 8,
      tableMiss: 'drop',
    });
  });

  it('wants the three TLS files together, or --insecure-tcp said out loud, to reach a controller', () => {
    const fields = (o: Partial<SwitchCommandOptions>) => {
      try {
        parseSwitchCommandOptions({ dpid: '1', controller: 'tcp://127.0.0.1:6633', port: [], ...o });
        return [];
      } catch (e) {
        return (e as { problems: { code: string; field?: string }[] }).problems.map((p) => `${p.code} ${p.field}`);
      }
    };
    expect(fields({})).toEqual(['OVC_ERR_CHANNEL_TLS_OPTIONS tlsCert']);
    expect(fields({ tlsCert: 'c', tlsKey: 'k' })).toEqual(['OVC_ERR_CHANNEL_TLS_OPTIONS tlsCa']);
    expect(fields({ tlsCert: 'c', tlsKey: 'k', tlsCa: 'a', insecureTcp: true })).toEqual(['OVC_ERR_CHANNEL_TLS_OPTIONS insecureTcp']);
    expect(fields({ tlsCert: 'c', tlsKey: 'k', tlsCa: 'a' })).toEqual([]);
    expect(fields({ insecureTcp: true })).toEqual([]);
    // Standalone (no controller): nothing to secure.
    expect(() => parseSwitchCommandOptions({ dpid: '1', port: [] })).not.toThrow();
  });

  it('backs off exponentially with jitter, capped', () => {
    const o = { initialMs: 100, maxMs: 1000 };
    expect(backoffDelayMs(0, o, () => 0)).toBe(50);
    expect(backoffDelayMs(0, o, () => 0.999999)).toBe(100);
    expect(backoffDelayMs(3, o, () => 0)).toBe(400);
    expect(backoffDelayMs(10, o, () => 0.5)).toBe(750);
  });
});
