import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { PrincipalMapper } from '../../src/auth/tls/principal-mapping.js';
import { certificatePrincipal } from '../../src/proxy/client-certificate.js';
import { issue, makeCa } from '../support/certificates.js';

/** What certificatePrincipal reads of a TLS socket: the peer certificate and the handshake's verdict. */
function socketWith(cert: string | undefined, authorized = true): TLSSocket {
  return { getPeerX509Certificate: () => (cert ? new X509Certificate(cert) : undefined), authorized, authorizationError: authorized ? null : 'CERT_HAS_EXPIRED' } as unknown as TLSSocket;
}

describe('certificatePrincipal', () => {
  const ca = makeCa();
  const mapper = PrincipalMapper.parse(['RULE:^CN=([^,]+),O=Acme$/$1/L']);

  it('maps a trusted certificate’s subject through the rules', () => {
    const alice = issue(ca, { subject: [['O', 'Acme'], ['CN', 'Alice']], usage: 'client' });
    expect(certificatePrincipal(socketWith(alice.cert), mapper)).toEqual({ principal: 'alice' });
  });

  it('refuses no certificate, an unverified one, an unmapped subject and a huge one, each with the reason', () => {
    const other = issue(ca, { subject: [['O', 'Other'], ['CN', 'bob']], usage: 'client' });
    const huge = issue(ca, { subject: [['O', 'Acme'], ['CN', `x${',OU=,O=,L=,ST='.repeat(100)}`]], usage: 'client' });
    expect(certificatePrincipal(socketWith(undefined), mapper)).toEqual({ refused: 'no client certificate', failure: 'untrusted-certificate' });
    expect(certificatePrincipal(socketWith(other.cert, false), mapper)).toEqual({ refused: 'client certificate not trusted: CERT_HAS_EXPIRED', failure: 'untrusted-certificate' });
    expect(certificatePrincipal(socketWith(other.cert), mapper)).toEqual({ refused: 'no principal mapping rule applies to the certificate subject CN=bob,O=Other', failure: 'no-principal-mapping' });
    expect(certificatePrincipal(socketWith(huge.cert), mapper)).toEqual({ refused: expect.stringMatching(/^certificate subject of \d+ characters; the limit is 1024$/), failure: 'malformed' });
  });
});
