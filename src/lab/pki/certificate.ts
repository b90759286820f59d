/**
 * A private certificate authority and the certificates it issues, for the switch channels' mutual TLS:
 * ECDSA P-256 keys and SHA-256 signatures from node:crypto, the X.509 v3 structure (RFC 5280) written
 * by ./der.ts. Enough for a lab or a small deployment: a CA, a controller certificate (server and
 * client use, `urn:overcast:controller`), and switch certificates listing the dpids each may claim.
 *
 * Written here rather than taken from an npm package: the project installs no new package for it, and
 * what it needs (one key type, four extensions) is small. Node's X509Certificate reads the results
 * back in the tests; OpenSSL (Node's TLS, Open vSwitch) verifies them in the channel tests.
 */
import crypto from 'node:crypto';
import {
  bitString,
  booleanTrue,
  explicit,
  implicitPrimitive,
  namedBits,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.js';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** KeyUsage bit numbers (RFC 5280 4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

export const DEFAULT_VALID_DAYS = 825;
const DAY_MS = 86_400_000;

export interface IssuedCertificate {
  /** PEM: "-----BEGIN CERTIFICATE-----" */
  certPem: string;
  /** PEM, PKCS#8: "-----BEGIN PRIVATE KEY-----" */
  keyPem: string;
}

export interface CertificateAuthority extends IssuedCertificate {
  readonly commonName: string;
  /** Sign a certificate for `subject`. */
  issue(subject: SubjectOptions): IssuedCertificate;
}

export interface SubjectOptions {
  commonName: string;
  /** subjectAltName URIs, e.g. urn:overcast:dpid:1. */
  uris?: readonly string[];
  dnsNames?: readonly string[];
  /** IPv4 addresses, dotted. */
  ipAddresses?: readonly string[];
  /** TLS server, TLS client, or both (extendedKeyUsage). */
  usage: 'server' | 'client' | 'both';
  validDays?: number;
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(objectIdentifier(OID.organization), utf8String('Overcast'))), set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))));
}

function extension(oid: string, value: Buffer, critical = false): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function keyIdentifier(spki: Buffer): Buffer {
  return crypto.createHash('sha1').update(spki).digest();
}

function ipv4Bytes(text: string): Buffer {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${text}`);
  return Buffer.from(parts);
}

function subjectAltName(o: SubjectOptions): Buffer | undefined {
  const names = [
    ...(o.dnsNames ?? []).map((d) => implicitPrimitive(2, Buffer.from(d, 'ascii'))),
    ...(o.uris ?? []).map((u) => implicitPrimitive(6, Buffer.from(u, 'ascii'))),
    ...(o.ipAddresses ?? []).map((ip) => implicitPrimitive(7, ipv4Bytes(ip))),
  ];
  return names.length > 0 ? sequence(...names) : undefined;
}

interface Signer {
  name: Buffer;
  key: crypto.KeyObject;
  keyId: Buffer;
}

/** A certificate for `subjectPublicKey`, signed by `signer` (the subject itself for a self-signed one). */
function buildCertificate(subjectName: Buffer, subjectPublicKey: crypto.KeyObject, signer: Signer, extensions: Buffer[], validDays: number): string {
  const spki = subjectPublicKey.export({ type: 'spki', format: 'der' });
  const ownKeyId = keyIdentifier(spki);
  const now = Date.now();
  const serial = crypto.randomBytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    algorithm,
    signer.name,
    sequence(time(new Date(now - 3_600_000)), time(new Date(now + validDays * DAY_MS))),
    subjectName,
    spki,
    explicit(
      3,
      sequence(
        ...extensions,
        extension(OID.subjectKeyIdentifier, octetString(ownKeyId)),
        extension(OID.authorityKeyIdentifier, sequence(implicitPrimitive(0, signer.keyId))),
      ),
    ),
  );
  const signature = crypto.sign('sha256', tbs, signer.key);
  const der = sequence(tbs, algorithm, bitString(signature));
  return toPem('CERTIFICATE', der);
}

function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.endsWith('\n') ? b64 : `${b64}\n`}-----END ${label}-----\n`;
}

function newKey(): { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject } {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** A new self-signed CA (its key never leaves the returned object but as `keyPem`). */
export function createCertificateAuthority(commonName: string, validDays = DEFAULT_VALID_DAYS * 4): CertificateAuthority {
  const { privateKey, publicKey } = newKey();
  const signer: Signer = { name: name(commonName), key: privateKey, keyId: keyIdentifier(publicKey.export({ type: 'spki', format: 'der' })) };
  const certPem = buildCertificate(
    signer.name,
    publicKey,
    signer,
    [extension(OID.basicConstraints, sequence(booleanTrue()), true), extension(OID.keyUsage, namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]), true)],
    validDays,
  );
  return {
    commonName,
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    issue(o) {
      const pair = newKey();
      const san = subjectAltName(o);
      const usages = o.usage === 'both' ? [OID.serverAuth, OID.clientAuth] : [o.usage === 'server' ? OID.serverAuth : OID.clientAuth];
      const extensions = [
        extension(OID.basicConstraints, sequence(), true),
        extension(OID.keyUsage, namedBits([KEY_USAGE.digitalSignature]), true),
        extension(OID.extKeyUsage, sequence(...usages.map(objectIdentifier))),
        ...(san ? [extension(OID.subjectAltName, san)] : []),
      ];
      return {
        certPem: buildCertificate(name(o.commonName), pair.publicKey, signer, extensions, o.validDays ?? DEFAULT_VALID_DAYS),
        keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
    },
  };
}
