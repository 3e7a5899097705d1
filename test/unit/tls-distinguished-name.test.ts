import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { distinguishedName, distinguishedNameFromDer } from '../../src/auth/tls/distinguished-name.js';
import { issue, makeCa } from '../support/certificates.js';

// Every expected string is what Java 17's X500Principal.getName() prints for the same certificate
// or DER Name (checked with a throwaway java program).
const ca = makeCa('dn test CA');
const UTF8 = forge.asn1.Type.UTF8;

/** A certificate whose subject attributes are UTF8Strings (forge's default is PrintableString). */
function subjectOf(attributes: [string, string, number?][]): string {
  const issued = issue(ca, { subject: [['CN', 'placeholder']], usage: 'client' });
  const cert = issued.forgeCert;
  cert.setSubject(attributes.map(([key, value, tag]) => ({ ...(key.includes('.') ? { type: key } : { shortName: key }), value, valueTagClass: tag ?? UTF8 }) as forge.pki.CertificateField));
  cert.sign(ca.forgeKey, forge.md.sha256.create());
  return distinguishedName(new X509Certificate(forge.pki.certificateToPem(cert)));
}

const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag, content.length]), content]);
const ava = (oidHex: string, tag: number, value: Buffer) => tlv(0x30, Buffer.concat([tlv(6, Buffer.from(oidHex, 'hex')), tlv(tag, value)]));
const name = (...rdns: Buffer[][]) => tlv(0x30, Buffer.concat(rdns.map((avas) => tlv(0x31, Buffer.concat(avas)))));
const CN = '550403';
const OU = '55040b';

describe('distinguishedName (Java X500Principal.getName, RFC 2253)', () => {
  it('reverses the certificate order and escapes commas and plus signs; several OUs', () => {
    const P = forge.asn1.Type.PRINTABLESTRING;
    expect(subjectOf([['C', 'US', P], ['O', 'Acme, Inc.'], ['OU', 'eng'], ['OU', 'ops+sre'], ['CN', 'alice']])).toBe('CN=alice,OU=ops\\+sre,OU=eng,O=Acme\\, Inc.,C=US');
  });

  it('escapes , = + < > # ; " \\ anywhere, leading and trailing spaces and carriage returns, NUL', () => {
    expect(subjectOf([['CN', '"quoted" <x> ; #1 = a\\b']])).toBe('CN=\\"quoted\\" \\<x\\> \\; \\#1 \\= a\\\\b');
    expect(subjectOf([['CN', ' lead and trail ']])).toBe('CN=\\ lead and trail\\ ');
    expect(subjectOf([['CN', '  ']])).toBe('CN=\\ \\ ');
    expect(subjectOf([['CN', '\r x \r']])).toBe('CN=\\\r\\ x\\ \\\r');
    expect(subjectOf([['CN', 'nul\u0000x']])).toBe('CN=nul\\00x');
    expect(subjectOf([['CN', 'tab\there\nnl']])).toBe('CN=tab\there\nnl');
    expect(subjectOf([['CN', 'a_b@c*d&e!f~g`h|i{j}k[l]m^n$o%p']])).toBe('CN=a_b@c*d&e!f~g`h|i{j}k[l]m^n$o%p');
  });

  it('writes non-ASCII as it is', () => {
    expect(subjectOf([['CN', 'Zoë Ünïcødé 日本 😀']])).toBe('CN=Zoë Ünïcødé 日本 😀');
  });

  it('uses the JDK RFC 2253 keywords, other types as OID=#hex', () => {
    const IA5 = forge.asn1.Type.IA5STRING;
    expect(
      subjectOf([
        ['0.9.2342.19200300.100.1.25', 'com', IA5],
        ['0.9.2342.19200300.100.1.25', 'example', IA5],
        ['0.9.2342.19200300.100.1.1', 'jdoe'],
        ['2.5.4.9', '1 Main St'],
        ['ST', 'CA'],
        ['L', 'SF'],
        ['2.5.4.5', '123', forge.asn1.Type.PRINTABLESTRING],
        ['1.2.840.113549.1.9.1', 'a@b.c', IA5],
      ]),
    ).toBe('1.2.840.113549.1.9.1=#16056140622e63,2.5.4.5=#1303313233,L=SF,ST=CA,STREET=1 Main St,UID=jdoe,DC=example,DC=com');
  });

  it('joins multi-valued RDNs with + in encoded order', () => {
    expect(distinguishedNameFromDer(name([ava('55040a', 12, Buffer.from('Org'))], [ava(CN, 12, Buffer.from('a')), ava('0992268993f22c640101', 12, Buffer.from('u1'))]))).toBe('CN=a+UID=u1,O=Org');
    expect(distinguishedNameFromDer(name([ava(CN, 22, Buffer.from('a'))], [ava(OU, 12, Buffer.from('b')), ava(OU, 12, Buffer.from('a'))]))).toBe('OU=b+OU=a,CN=a');
    expect(distinguishedNameFromDer(name())).toBe('');
  });

  it('reads every string type as UTF-8 as the JDK does; other value types as #hex', () => {
    expect(distinguishedNameFromDer(name([ava(CN, 30, Buffer.from('00e9004100d83dde00', 'hex'))]))).toBe('CN=\\00\ufffd\\00A\\00\ufffd\\=\ufffd\\00');
    expect(distinguishedNameFromDer(name([ava(CN, 20, Buffer.from('e9ff41', 'hex'))]))).toBe('CN=\ufffd\ufffdA');
    expect(distinguishedNameFromDer(name([ava(CN, 12, Buffer.from('eda041', 'hex'))]))).toBe('CN=\ufffdA');
    expect(distinguishedNameFromDer(name([ava(CN, 12, Buffer.from('f09f98', 'hex'))]))).toBe('CN=\ufffd');
    expect(distinguishedNameFromDer(name([ava(CN, 28, Buffer.from('00000041', 'hex'))]))).toBe('CN=#1c0400000041');
    expect(distinguishedNameFromDer(name([ava(CN, 2, Buffer.from('05', 'hex'))]))).toBe('CN=#020105');
  });

  it('refuses malformed DER', () => {
    expect(() => distinguishedNameFromDer(Buffer.from('3005310330', 'hex'))).toThrow(/malformed/);
  });
});
