/**
 * Switches prove who they are: the native channel over mutual TLS, a dpid bound to the certificate.
 * A real softswitch joins with its certificate; an impostor with another switch's certificate, a
 * second connection for a live dpid, a client without a certificate or with one from another CA are
 * refused and counted, and the real session is undisturbed. A session that no longer answers is
 * replaced.
 */
import pino from 'pino';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { ChannelLimits } from '../../../src/controller/channel/listener.js';
import { Controller, type ControllerComponents } from '../../../src/controller/controller.js';
import { listenNative } from '../../../src/controller/native/native-server.js';
import { createCertificateAuthority } from '../../../src/lab/index.js';
import { CONTROLLER_URI, dpidUri } from '../../../src/protocol/identity.js';
import { createSoftSwitch, type SoftSwitch } from '../../../src/switch/index.js';
import { notYet, waitFor } from '../../support/wait-for.js';
import { connectFakeSwitch, type FakeSwitch } from './fake-switch.js';

const logger = pino({ level: 'silent' });

const ca = await createCertificateAuthority('test CA');
const credentials = (issued: { certPem: string; keyPem: string }) => ({ cert: issued.certPem, key: issued.keyPem, ca: ca.certPem });
const controllerCert = credentials(await ca.issue({ commonName: 'controller', uris: [CONTROLLER_URI], usage: 'both' }));
const s1 = credentials(await ca.issue({ commonName: 's1', uris: [dpidUri(1)], usage: 'client' }));
const s2 = credentials(await ca.issue({ commonName: 's2', uris: [dpidUri(2)], usage: 'client' }));

describe('switch identity on the native channel (mutual TLS)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function setup(components: Partial<ControllerComponents> = {}, serverCert = controllerCert, limits: Partial<ChannelLimits> = {}) {
    const controller = new Controller({ logger, nowMs: () => performance.now(), ...components });
    const server = await listenNative(controller, '127.0.0.1', 0, logger, { tls: serverCert, limits });
    cleanup.push(async () => {
      controller.close();
      await server.close();
    });
    const fake = (dpid: number, cert: typeof s1 | undefined, silent = false): FakeSwitch => {
      const f = connectFakeSwitch({ port: server.port, dpid, ...(cert ? { tls: cert } : {}), silent });
      cleanup.push(() => f.close());
      return f;
    };
    const softswitch = async (dpid: number, cert: typeof s1): Promise<SoftSwitch> => {
      const sw = createSoftSwitch(
        { dpid, controller: { host: '127.0.0.1', port: server.port }, controllerTls: cert, ports: [{ portNo: 1, name: 'p1', localHost: '127.0.0.1', localPort: 0 }], backoff: { initialMs: 20, maxMs: 100 } },
        { logger },
      );
      await sw.start();
      cleanup.push(() => sw.stop());
      return sw;
    };
    return { controller, server, fake, softswitch };
  }

  const joined = (c: Controller, dpid: number) =>
    waitFor(`switch ${dpid} to join`, () => c.session(dpid) ?? notYet({ sessions: c.knownDpids, refused: c.channelCounters }), { timeoutMs: 10_000 });

  it('a softswitch joins with its certificate; the session carries what the certificate may claim', async () => {
    const { controller, softswitch } = await setup();
    await softswitch(1, s1);
    const session = await joined(controller, 1);
    expect(session.connection.peerIdentity).toEqual({ dpids: [1], subject: expect.stringContaining('CN=s1') });
  });

  it('an impostor with another switch\'s certificate claiming dpid 1 is refused; the real session stays', async () => {
    const { controller, fake, softswitch } = await setup();
    const sw = await softswitch(1, s1);
    const real = await joined(controller, 1);
    const impostor = fake(1, s2);
    await impostor.closed;
    expect(controller.channelCounters.identityRefused).toBe(1);
    expect(controller.session(1)).toBe(real);
    expect(sw.connected).toBe(true);
    // Nothing of the switch's tables reached the impostor: it was refused before any read.
    expect(impostor.received.some((m) => m.type === 'flowStatsRequest' || m.type === 'flowMod')).toBe(false);
  });

  it('a second connection for a live dpid is refused, even with the right certificate', async () => {
    const { controller, fake, softswitch } = await setup();
    await softswitch(1, s1);
    const real = await joined(controller, 1);
    const second = fake(1, s1);
    await second.closed;
    expect(controller.channelCounters.takeoverRefused).toBe(1);
    expect(controller.session(1)).toBe(real);
  });

  it('a session that no longer answers its echo is replaced by the new connection', async () => {
    const { controller, fake } = await setup({ takeoverGraceMs: 200 });
    const first = fake(1, s1);
    const old = await joined(controller, 1);
    first.silent = true;
    fake(1, s1);
    await waitFor('the new session', () => (controller.session(1) && controller.session(1) !== old ? true : notYet(controller.channelCounters)), { timeoutMs: 10_000 });
    await first.closed;
    expect(controller.channelCounters).toMatchObject({ takeovers: 1, takeoverRefused: 0 });
  });

  it('a client certificate naming no dpid (the controller\'s own) is refused', async () => {
    const { controller, fake } = await setup();
    const f = fake(1, controllerCert);
    await f.closed;
    expect(controller.channelCounters.identityRefused).toBe(1);
    expect(controller.session(1)).toBeUndefined();
  });

  it('no certificate, a certificate from another CA, or plain TCP fail the TLS handshake', async () => {
    const { controller, server, fake } = await setup();
    const other = await createCertificateAuthority('another CA');
    const foreign = { ...credentials(await other.issue({ commonName: 's1', uris: [dpidUri(1)], usage: 'client' })), ca: ca.certPem };
    const none = tls.connect({ host: '127.0.0.1', port: server.port, ca: ca.certPem, checkServerIdentity: () => undefined });
    none.on('error', () => undefined);
    cleanup.push(() => void none.destroy());
    fake(1, foreign);
    fake(1, undefined);
    await waitFor('three refused TLS handshakes', () => controller.channelCounters.tlsRefused >= 3 || notYet(controller.channelCounters), { timeoutMs: 10_000 });
    expect(controller.session(1)).toBeUndefined();
  });

  it('a connection that never starts its TLS handshake is closed when the handshake time is up', async () => {
    const { controller, server } = await setup({}, controllerCert, { handshakeTimeoutMs: 200 });
    const silent = net.connect({ host: '127.0.0.1', port: server.port });
    silent.on('error', () => undefined);
    silent.resume();
    cleanup.push(() => void silent.destroy());
    await new Promise((resolve) => silent.once('close', resolve));
    expect(controller.channelCounters.tlsRefused).toBe(1);
  });

  it('a softswitch does not take a switch\'s certificate for the controller\'s', async () => {
    // Signed by the same CA and good for a TLS server, but without urn:overcast:controller.
    const notController = credentials(await ca.issue({ commonName: 'controller', uris: [dpidUri(2)], dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' }));
    const { controller, softswitch } = await setup({}, notController);
    const sw = await softswitch(1, s1);
    await waitFor('the softswitch to refuse the server', () => controller.channelCounters.tlsRefused >= 1 || notYet(controller.channelCounters), { timeoutMs: 10_000 });
    expect(sw.connected).toBe(false);
    expect(controller.session(1)).toBeUndefined();
  });
});
