import { type SecureVersion, type TLSSocket, connect as connectTls } from 'node:tls';
import type { BrokerDialer } from '../src/proxy/broker-dialer.js';

/**
 * A bench client's TLS: checks the proxy's certificate against the bench CA (and the address it
 * dialed), offers `session` for resumption when given, hands every ticket the server sends to
 * `ticket`, and tells `secured` about every socket whose handshake completed (was it resumed?).
 */
export function benchTlsDialer(
  caPem: string,
  options: {
    maxVersion?: SecureVersion;
    session?: () => Buffer | undefined;
    secured?: (socket: TLSSocket) => void;
    /** Every session (ticket) the server sends, to resume with later. */
    ticket?: (session: Buffer) => void;
  } = {},
): BrokerDialer {
  return {
    tls: true,
    dial(host, port, ready, failed) {
      const socket = connectTls({ host, port, ca: caPem, maxVersion: options.maxVersion, session: options.session?.() });
      socket.setNoDelay(true);
      const { ticket } = options;
      if (ticket) socket.on('session', (session: Buffer) => ticket(session));
      let tcpConnected = false;
      socket.once('connect', () => (tcpConnected = true));
      const onError = (e: Error) => failed(tcpConnected ? `TLS handshake failed: ${e.message}` : e.message, tcpConnected);
      socket.once('error', onError);
      socket.once('secureConnect', () => {
        socket.removeListener('error', onError);
        options.secured?.(socket);
        ready();
      });
      return socket;
    },
  };
}
