import type { TLSSocket } from 'node:tls';
import type { AuthenticationFailure } from '../auth/authentication-failure.js';
import { distinguishedName } from '../auth/tls/distinguished-name.js';
import type { PrincipalMapper } from '../auth/tls/principal-mapping.js';
import { shortened } from '../observe/client-text.js';

/** Far above any real subject (a handful of attributes of up to 64 characters each). */
const MAX_SUBJECT_CHARACTERS = 1024;

/**
 * The principal of a client authenticated by its certificate (MTLS): the certificate subject as
 * Kafka writes it (RFC 2253), through the listener's principal mapping rules, once the handshake
 * has checked it against the listener's CA.
 */
export function certificatePrincipal(socket: TLSSocket, mapper: PrincipalMapper): { principal: string } | { refused: string; failure: AuthenticationFailure } {
  const certificate = socket.getPeerX509Certificate();
  if (!certificate) return { refused: 'no client certificate', failure: 'untrusted-certificate' };
  if (!socket.authorized) return { refused: `client certificate not trusted: ${String(socket.authorizationError)}`, failure: 'untrusted-certificate' };
  let subject: string;
  try {
    subject = distinguishedName(certificate);
  } catch {
    // OpenSSL accepts encodings (BER lengths) the subject parser does not read: refused, never thrown.
    return { refused: 'the certificate subject cannot be read', failure: 'malformed' };
  }
  // Mapping rules are regular expressions: a huge subject could keep them busy for seconds.
  if (subject.length > MAX_SUBJECT_CHARACTERS) {
    return { refused: `certificate subject of ${subject.length} characters; the limit is ${MAX_SUBJECT_CHARACTERS}`, failure: 'malformed' };
  }
  const principal = mapper.map(subject);
  if (principal === undefined) return { refused: `no principal mapping rule applies to the certificate subject ${shortened(subject)}`, failure: 'no-principal-mapping' };
  if (principal === '') {
    return { refused: `the principal mapping rules turn the certificate subject ${shortened(subject)} into an empty name`, failure: 'no-principal-mapping' };
  }
  return { principal };
}
