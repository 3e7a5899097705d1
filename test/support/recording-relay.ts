import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { FrameSplitter } from '../../src/protocol/frame-splitter.js';

export interface RecordedExchange {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  request: Buffer;
  /** Undefined for requests that get no answer (Produce with acks=0) or are still in flight. */
  response?: Buffer;
}

/**
 * A TCP relay that forwards bytes unchanged between clients and one broker and records every
 * frame in both directions, pairing responses with requests by correlation id, so tests can
 * check that real clients' traffic decodes with the generated codecs.
 */
export class RecordingRelay {
  readonly exchanges: RecordedExchange[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<RecordingRelay> {
    let relay: RecordingRelay | undefined;
    const server = createServer((client) => relay!.relay(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    relay = new RecordingRelay(server, (server.address() as AddressInfo).port);
    return relay;
  }

  private relay(client: Socket, host: string, port: number): void {
    const upstream = connect({ host, port });
    this.sockets.add(client).add(upstream);
    const pending = new Map<number, RecordedExchange>();
    const requests = new FrameSplitter(256 * 1024 * 1024);
    const responses = new FrameSplitter(256 * 1024 * 1024);
    client.on('data', (chunk) => {
      upstream.write(chunk);
      requests.push(chunk, (frame) => {
        const exchange: RecordedExchange = {
          apiKey: frame.readInt16BE(4),
          apiVersion: frame.readInt16BE(6),
          correlationId: frame.readInt32BE(8),
          request: Buffer.from(frame),
        };
        this.exchanges.push(exchange);
        pending.set(exchange.correlationId, exchange);
      });
    });
    upstream.on('data', (chunk) => {
      client.write(chunk);
      responses.push(chunk, (frame) => {
        const correlationId = frame.readInt32BE(4);
        const exchange = pending.get(correlationId);
        if (exchange) {
          exchange.response = Buffer.from(frame);
          pending.delete(correlationId);
        }
      });
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
