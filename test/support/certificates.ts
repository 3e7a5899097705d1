import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

/**
 * Certificates made by the tests themselves (node-forge: pure JavaScript, nothing to install
 * beyond npm): a CA, server certificates with the names clients dial, client certificates with
 * a subject to map to a principal, expired and untrusted ones. RSA 2048, which every client
 * library here accepts.
 */

export interface Issued {
  /** PEM of the certificate alone. */
  cert: string;
  /** PEM of the private key (PKCS#8, unencrypted unless `keyPassword` was given). */
  key: string;
  forgeCert: forge.pki.Certificate;
  forgeKey: forge.pki.rsa.PrivateKey;
}

export interface CertificateOptions {
  /** Subject attributes, most significant first, e.g. [['O', 'Acme'], ['OU', 'eng'], ['CN', 'alice']]. */
  subject: [string, string][];
  /** DNS names and IP addresses for a server certificate. */
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** Key usage: a server, a client, or both. */
  usage?: 'server' | 'client' | 'both';
  /** Encrypts the key (PKCS#8, AES-256) with this password. */
  keyPassword?: string;
}

const DAY_MS = 86_400_000;
let serial = 1;

function nextSerial(): string {
  return (serial++).toString(16).padStart(2, '0');
}

function attributes(subject: [string, string][]): forge.pki.CertificateField[] {
  return subject.map(([shortName, value]) => ({ shortName, value }));
}

function keyPem(key: forge.pki.rsa.PrivateKey, password?: string): string {
  const info = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key));
  if (password === undefined) return forge.pki.privateKeyInfoToPem(info);
  return forge.pki.encryptedPrivateKeyToPem(forge.pki.encryptPrivateKeyInfo(info, password, { algorithm: 'aes256' }));
}

/** A self-signed CA. */
export function makeCa(name = 'kafka-auth-proxy test CA', notAfter = new Date(Date.now() + 30 * DAY_MS)): Issued {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = nextSerial();
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = notAfter;
  cert.setSubject(attributes([['CN', name]]));
  cert.setIssuer(attributes([['CN', name]]));
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem(keys.privateKey), forgeCert: cert, forgeKey: keys.privateKey };
}

/** A certificate issued by `ca`. */
export function issue(ca: Issued, opts: CertificateOptions): Issued {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = nextSerial();
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 30 * DAY_MS);
  cert.setSubject(attributes(opts.subject));
  cert.setIssuer(ca.forgeCert.subject.attributes);
  const usage = opts.usage ?? 'server';
  const altNames = [...(opts.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(opts.ipAddresses ?? []).map((ip) => ({ type: 7, ip }))];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: usage !== 'client', clientAuth: usage !== 'server' },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  cert.sign(ca.forgeKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem(keys.privateKey, opts.keyPassword), forgeCert: cert, forgeKey: keys.privateKey };
}

/** A server certificate for the loopback names the tests dial, plus `dnsNames`. */
export function loopbackServer(ca: Issued, dnsNames: string[] = [], extra: Partial<CertificateOptions> = {}): Issued {
  return issue(ca, { subject: [['CN', 'localhost']], dnsNames: ['localhost', ...dnsNames], ipAddresses: ['127.0.0.1'], usage: 'server', ...extra });
}

/** Writes PEM text to a new temporary directory; returns the file's path. */
export function writePem(name: string, ...pems: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kap-tls-')), name);
  writeFileSync(path, pems.join(''));
  return path;
}
