import { type TLSSocket, connect } from 'node:tls';

export interface TlsHandshakeResult {
  /** Whether the server resumed the session it was offered. */
  resumed: boolean;
  /** The last session ticket the server sent; a resumed handshake may bring none. */
  session: Buffer | undefined;
}

/** One TLS 1.3 client handshake to 127.0.0.1 (offering `session` to resume), then a close. */
export function tlsHandshake(port: number, ca: string, session?: Buffer): Promise<TlsHandshakeResult> {
  return new Promise((resolve, reject) => {
    let latest: Buffer | undefined;
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', session, maxVersion: 'TLSv1.3' });
    socket.on('session', (s: Buffer) => (latest = s));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      // TLS 1.3 tickets arrive just after the handshake.
      setTimeout(() => {
        const resumed = socket.isSessionReused();
        socket.end();
        resolve({ resumed, session: latest });
      }, 50);
    });
  });
}
