import { connect, createServer } from 'node:net';
import { LOOPBACK } from '../scripts/kafka/ports.js';

export interface TcpRelay {
  port: number;
}

/**
 * A bare TCP relay: every accepted connection gets its own connection to host:port and bytes
 * are piped both ways untouched. The floor for what any proxy in the path can cost.
 */
export function startRelay(host: string, port: number): Promise<TcpRelay> {
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host, port, noDelay: true });
    // Either side failing or closing tears the pair down, as a broker connection loss would.
    const teardown = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once('error', teardown).once('close', teardown);
    upstream.once('error', teardown).once('close', teardown);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('relay has no TCP address'));
      else resolve({ port: address.port });
    });
  });
}
