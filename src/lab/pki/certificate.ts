/**
 * A private certificate authority and the certificates it issues, for the switch channels' mutual TLS:
 * ECDSA P-256 keys and SHA-256 signatures through Node's WebCrypto, the X.509 v3 certificates built by
 * @peculiar/x509. Enough for a lab or a small deployment: a CA, a controller certificate (server and
 * client use, `urn:overcast:controller`), and switch certificates listing the dpids each may claim as
 * subjectAltName URIs.
 */
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const DEFAULT_VALID_DAYS = 825;
const DAY_MS = 86_400_000;
/** Certificates start an hour back, so a peer whose clock is a little behind accepts them at once. */
const BACKDATE_MS = 3_600_000;

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export interface IssuedCertificate {
  /** PEM: "-----BEGIN CERTIFICATE-----" */
  certPem: string;
  /** PEM, PKCS#8: "-----BEGIN PRIVATE KEY-----" */
  keyPem: string;
}

export interface CertificateAuthority extends IssuedCertificate {
  readonly commonName: string;
  /** Sign a certificate for `subject`. */
  issue(subject: SubjectOptions): Promise<IssuedCertificate>;
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

/** A distinguished name's text form with its values escaped (RFC 4514). */
function distinguishedName(commonName: string): string {
  const escape = (v: string) => v.replace(/[\\,+"<>;=#]/g, (c) => `\\${c}`);
  return `O=Overcast, CN=${escape(commonName)}`;
}

function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function keyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280 4.1.2.2). */
function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

function alternativeNames(o: SubjectOptions): x509.JsonGeneralName[] {
  return [
    ...(o.dnsNames ?? []).map((value): x509.JsonGeneralName => ({ type: 'dns', value })),
    ...(o.uris ?? []).map((value): x509.JsonGeneralName => ({ type: 'url', value })),
    ...(o.ipAddresses ?? []).map((value): x509.JsonGeneralName => ({ type: 'ip', value })),
  ];
}

/** A new self-signed CA (its key never leaves the returned object but as `keyPem`). */
export async function createCertificateAuthority(commonName: string, validDays = DEFAULT_VALID_DAYS * 4): Promise<CertificateAuthority> {
  const keys = await newKeys();
  const caName = distinguishedName(commonName);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: caName,
    ...validity(validDays),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    commonName,
    certPem: caCert.toString('pem'),
    keyPem: await keyPem(keys),
    async issue(o) {
      const subjectKeys = await newKeys();
      const usages = o.usage === 'both' ? [SERVER_AUTH, CLIENT_AUTH] : [o.usage === 'server' ? SERVER_AUTH : CLIENT_AUTH];
      const names = alternativeNames(o);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serialNumber(),
        subject: distinguishedName(o.commonName),
        issuer: caCert.subject,
        ...validity(o.validDays ?? DEFAULT_VALID_DAYS),
        signingAlgorithm: SIGNING_ALGORITHM,
        publicKey: subjectKeys.publicKey,
        signingKey: keys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension(usages),
          ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
          await x509.SubjectKeyIdentifierExtension.create(subjectKeys.publicKey),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
        ],
      });
      return { certPem: cert.toString('pem'), keyPem: await keyPem(subjectKeys) };
    },
  };
}
