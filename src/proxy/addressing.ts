import type { ListenerConfig } from '../config/schema.js';

/**
 * How one listener presents brokers to clients: the host it advertises and the port it serves
 * each broker node on (base + node id, or an explicit map).
 */
export class ListenerAddressing {
  readonly advertisedHost: string;
  private readonly base: number | undefined;
  private readonly map: Map<number, number> | undefined;

  constructor(listener: ListenerConfig) {
    this.advertisedHost = listener.advertisedHost;
    if ('base' in listener.brokerPorts) {
      this.base = listener.brokerPorts.base;
    } else {
      this.map = new Map(Object.entries(listener.brokerPorts.map).map(([id, port]) => [Number(id), port]));
    }
  }

  /** The proxy port for a broker node, or undefined when the configuration has none for it. */
  portFor(nodeId: number): number | undefined {
    if (this.base !== undefined) {
      const port = this.base + nodeId;
      return nodeId >= 0 && port <= 65535 ? port : undefined;
    }
    return this.map!.get(nodeId);
  }

  describe(): string {
    return this.base !== undefined ? `port ${this.base} + node id` : `ports for node ids ${[...this.map!.keys()].join(', ')}`;
  }
}
