import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConfigProblem } from '../config/load.js';
import type { ProxyConfig } from '../config/schema.js';

/** A certificate expiring sooner than this gets a warning from `kafka-auth-proxy check`. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export interface CertificateFiles {
  /** PEM chain, the certificate itself first, then each issuer. */
  certFile: string;
  /** PEM private key of the first certificate (may sit in certFile too). */
  keyFile?: string;
  keyPassword?: string;
  /** PEM CA bundle. */
  caFile?: string;
}

export interface CertificateInspection {
  /** Reasons the files cannot be used (the proxy would refuse them). */
  problems: string[];
  /** Usable, but soon not (expiry within EXPIRY_WARNING_DAYS). */
  warnings: string[];
  /** Expiry of the first certificate, when it parses. */
  notAfter?: Date;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function readText(file: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    problems.push(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return undefined;
  }
}

/** The certificates of a PEM file, in order; problems for a file without any or with one that does not parse. */
function readCertificates(file: string, problems: string[]): X509Certificate[] | undefined {
  const text = readText(file, problems);
  if (text === undefined) return undefined;
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    problems.push(`${file}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file`);
    return undefined;
  }
  const certificates: X509Certificate[] = [];
  blocks.forEach((block, i) => {
    try {
      certificates.push(new X509Certificate(block));
    } catch {
      problems.push(`${file}: certificate ${i + 1} does not parse`);
    }
  });
  return certificates.length === blocks.length ? certificates : undefined;
}

function day(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Problems with a certificate's validity period, named as `what`. */
function validityProblems(file: string, what: string, cert: X509Certificate, now: number): string[] {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from.getTime()) return [`${file}: ${what} (${cert.subject.replace(/\n/g, ', ')}) is not valid before ${day(from)}`];
  if (now > to.getTime()) return [`${file}: ${what} (${cert.subject.replace(/\n/g, ', ')}) expired on ${day(to)}`];
  return [];
}

function readKey(files: CertificateFiles, problems: string[]): KeyObject | undefined {
  const file = files.keyFile!;
  const text = readText(file, problems);
  if (text === undefined) return undefined;
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    problems.push(`${file}: no PEM private key (-----BEGIN ... PRIVATE KEY-----) in the file`);
    return undefined;
  }
  if (encrypted && files.keyPassword === undefined) {
    problems.push(`${file}: the private key is encrypted and no keyPassword is set`);
    return undefined;
  }
  try {
    // Never put the error's text in the message: it is OpenSSL's, and the password stays out of it too.
    return createPrivateKey({ key: text, format: 'pem', ...(files.keyPassword !== undefined ? { passphrase: files.keyPassword } : {}) });
  } catch {
    problems.push(encrypted ? `${file}: the private key cannot be decrypted with keyPassword` : `${file}: the private key does not parse`);
    return undefined;
  }
}

/**
 * Checks a certificate chain, its key and a CA bundle as the proxy will use them: files readable,
 * PEM that parses, the key decrypts and belongs to the first certificate, every certificate of the
 * chain within its validity period, each certificate issued (and signed) by the next one. Warns when
 * the first certificate expires within 30 days. Messages name the file, never key material.
 */
export function inspectCertificateFiles(files: CertificateFiles, now = Date.now()): CertificateInspection {
  const problems: string[] = [];
  const warnings: string[] = [];
  let notAfter: Date | undefined;
  const chain = readCertificates(files.certFile, problems);
  if (chain) {
    const leaf = chain[0];
    notAfter = new Date(leaf.validTo);
    chain.forEach((cert, i) => problems.push(...validityProblems(files.certFile, i === 0 ? 'the certificate' : `chain certificate ${i + 1}`, cert, now)));
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) {
        problems.push(`${files.certFile}: certificate ${i + 1} is not issued by certificate ${i + 2}: the chain must go from the certificate to its issuers, in order`);
      }
    }
    const left = notAfter.getTime() - now;
    if (left >= 0 && left < EXPIRY_WARNING_DAYS * DAY_MS) {
      warnings.push(`${files.certFile}: the certificate expires on ${day(notAfter)} (in ${Math.floor(left / DAY_MS)} days)`);
    }
    if (files.keyFile !== undefined) {
      const key = readKey(files, problems);
      if (key && !leaf.checkPrivateKey(key)) problems.push(`${files.keyFile}: the private key does not belong to the first certificate of ${files.certFile}`);
    }
  } else if (files.keyFile !== undefined) {
    readKey(files, problems);
  }
  if (files.caFile !== undefined) problems.push(...inspectCaFile(files.caFile, now).problems);
  return { problems, warnings, ...(notAfter ? { notAfter } : {}) };
}

/** A CA bundle alone: readable, at least one certificate, all of them parse and are within their validity. */
export function inspectCaFile(caFile: string, now = Date.now()): { problems: string[] } {
  const problems: string[] = [];
  const cas = readCertificates(caFile, problems);
  cas?.forEach((cert, i) => problems.push(...validityProblems(caFile, `CA certificate ${i + 1}`, cert, now)));
  return { problems };
}

/**
 * Every TLS file of a config (listeners' tls, upstream.tls), for `kafka-auth-proxy check`:
 * problems make the check fail, warnings are printed.
 */
export function checkTlsFiles(configFile: string, config: ProxyConfig, now = Date.now()): { problems: ConfigProblem[]; warnings: string[] } {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const add = (path: string, inspection: { problems: string[]; warnings?: string[] }) => {
    problems.push(...inspection.problems.map((message) => ({ file: configFile, path, message })));
    warnings.push(...(inspection.warnings ?? []).map((w) => `${configFile}: ${path}: ${w}`));
  };
  config.listeners.forEach((l, i) => {
    if (l.tls) add(`listeners[${i}].tls`, inspectCertificateFiles(l.tls, now));
  });
  const upstream = config.upstream.tls;
  if (upstream?.certFile !== undefined) add('upstream.tls', inspectCertificateFiles({ ...upstream, certFile: upstream.certFile }, now));
  else if (upstream?.caFile !== undefined) add('upstream.tls', inspectCaFile(upstream.caFile, now));
  return { problems, warnings };
}
