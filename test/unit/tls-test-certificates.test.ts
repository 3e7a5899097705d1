import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issue, loopbackServer, makeCa } from '../support/certificates.js';

describe('test certificates', () => {
  it('issues server and client certificates that Node verifies against the CA', () => {
    const ca = makeCa();
    const server = loopbackServer(ca, ['broker-1.kafka.test']);
    const client = issue(ca, { subject: [['O', 'Acme'], ['CN', 'alice']], usage: 'client', keyPassword: 'pw' });
    const caCert = new X509Certificate(ca.cert);
    const serverCert = new X509Certificate(server.cert);
    expect(serverCert.verify(caCert.publicKey)).toBe(true);
    expect(serverCert.checkHost('broker-1.kafka.test')).toBe('broker-1.kafka.test');
    expect(serverCert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(new X509Certificate(client.cert).subject).toBe('O=Acme\nCN=alice');
    expect(() => createPrivateKey({ key: client.key, passphrase: 'pw' })).not.toThrow();
    expect(() => createPrivateKey(client.key)).toThrow();
  });
});
