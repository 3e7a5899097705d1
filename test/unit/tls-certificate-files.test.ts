import { describe, expect, it } from 'vitest';
import { inspectCertificateFiles } from '../../src/tls/certificate-files.js';
import { loopbackServer, makeCa, writePem } from '../support/certificates.js';

const DAY = 86_400_000;
const ca = makeCa('files CA');
const server = loopbackServer(ca);
const other = loopbackServer(ca);
const encrypted = loopbackServer(ca, [], { keyPassword: 's3cret-pw' });

describe('inspectCertificateFiles', () => {
  it('accepts a good chain, key and CA bundle, and gives the expiry', () => {
    const certFile = writePem('chain.pem', server.cert, ca.cert);
    const r = inspectCertificateFiles({ certFile, keyFile: writePem('key.pem', server.key), caFile: writePem('ca.pem', ca.cert) });
    expect(r.problems).toEqual([]);
    expect(r.notAfter?.getTime()).toBe(server.forgeCert.validity.notAfter.getTime() - (server.forgeCert.validity.notAfter.getTime() % 1000));
  });

  it('names unreadable files and files without PEM', () => {
    const notPem = writePem('junk.pem', 'hello');
    const r = inspectCertificateFiles({ certFile: '/nonexistent/cert.pem', keyFile: notPem, caFile: notPem });
    expect(r.problems).toEqual([
      '/nonexistent/cert.pem: cannot read: ENOENT',
      `${notPem}: no PEM private key (-----BEGIN ... PRIVATE KEY-----) in the file`,
      `${notPem}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file`,
    ]);
    const broken = writePem('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(inspectCertificateFiles({ certFile: broken }).problems).toEqual([`${broken}: certificate 1 does not parse`]);
  });

  it('checks the key matches and decrypts, never printing the password', () => {
    const certFile = writePem('c.pem', server.cert);
    expect(inspectCertificateFiles({ certFile, keyFile: writePem('k.pem', other.key) }).problems).toEqual([
      expect.stringMatching(/k\.pem: the private key does not belong to the first certificate of .*c\.pem$/),
    ]);
    const encCert = writePem('e.pem', encrypted.cert);
    const encKey = writePem('ek.pem', encrypted.key);
    expect(inspectCertificateFiles({ certFile: encCert, keyFile: encKey, keyPassword: 's3cret-pw' }).problems).toEqual([]);
    expect(inspectCertificateFiles({ certFile: encCert, keyFile: encKey }).problems).toEqual([`${encKey}: the private key is encrypted and no keyPassword is set`]);
    const wrong = inspectCertificateFiles({ certFile: encCert, keyFile: encKey, keyPassword: 'wrong-pw' });
    expect(wrong.problems).toEqual([`${encKey}: the private key cannot be decrypted with keyPassword`]);
    expect(JSON.stringify(wrong)).not.toMatch(/wrong-pw|PRIVATE KEY-----\n/);
  });

  it('finds expired and not yet valid certificates, and warns 30 days before expiry', () => {
    const certFile = writePem('s.pem', server.cert);
    const notAfter = server.forgeCert.validity.notAfter.getTime();
    expect(inspectCertificateFiles({ certFile }, notAfter + DAY).problems).toEqual([expect.stringMatching(/s\.pem: the certificate \(CN=localhost\) expired on \d{4}-\d\d-\d\dT/)]);
    expect(inspectCertificateFiles({ certFile }, Date.now() - 3 * DAY).problems).toEqual([expect.stringMatching(/is not valid before/)]);
    const soon = inspectCertificateFiles({ certFile }, notAfter - 10 * DAY - 1000);
    expect(soon.problems).toEqual([]);
    expect(soon.warnings).toEqual([expect.stringMatching(/s\.pem: the certificate expires on .* \(in 10 days\)$/)]);
    expect(inspectCertificateFiles({ certFile }, notAfter - 31 * DAY).warnings).toEqual([]);
  });

  it('requires the chain in order: each certificate issued by the next', () => {
    const reversed = writePem('rev.pem', ca.cert, server.cert);
    expect(inspectCertificateFiles({ certFile: reversed }).problems).toEqual([expect.stringMatching(/certificate 1 is not issued by certificate 2/)]);
    const unrelated = writePem('unrel.pem', server.cert, makeCa('other CA').cert);
    expect(inspectCertificateFiles({ certFile: unrelated }).problems).toEqual([expect.stringMatching(/certificate 1 is not issued by certificate 2/)]);
  });
});
