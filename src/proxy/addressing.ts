import type { ListenerConfig } from '../config/schema.js';

/** Where clients reach one broker (or the bootstrap) through a listener. */
export interface ProxyAddress {
  host: string;
  port: number;
}

/** What a TLS server name asks for on an SNI listener. */
export type SniRoute = { kind: 'bootstrap' } | { kind: 'broker'; nodeId: number };

const NODE_ID = '{nodeId}';

/**
 * How one listener presents brokers to clients: with broker ports, the advertised host and the
 * port it serves each broker node on (base + node id, or an explicit map); with SNI routing, one
 * port and a host name per broker node, told apart by the TLS server name.
 */
export class ListenerAddressing {
  private readonly advertisedHost: string | undefined;
  private readonly base: number | undefined;
  private readonly map: Map<number, number> | undefined;
  private readonly sni: ListenerConfig['sni'];
  /** The broker host pattern split at {nodeId}, lower case. */
  private readonly sniParts: [string, string] | undefined;

  constructor(private readonly listener: ListenerConfig) {
    this.sni = listener.sni;
    if (this.sni) {
      const [before, after] = this.sni.brokerHostPattern.split(NODE_ID);
      this.sniParts = [before.toLowerCase(), after.toLowerCase()];
      return;
    }
    this.advertisedHost = listener.advertisedHost;
    const ports = listener.brokerPorts!;
    if ('base' in ports) this.base = ports.base;
    else this.map = new Map(Object.entries(ports.map).map(([id, port]) => [Number(id), port]));
  }

  /** Whether brokers are told apart by TLS server name on the listener's one port. */
  get routesBySni(): boolean {
    return this.sni !== undefined;
  }

  /** The address clients are given for a broker node, or undefined when the configuration has none for it. */
  addressFor(nodeId: number): ProxyAddress | undefined {
    if (nodeId < 0) return undefined;
    if (this.sni) return { host: this.sni.brokerHostPattern.replace(NODE_ID, String(nodeId)), port: this.listener.port };
    const port = this.base !== undefined ? this.base + nodeId : this.map!.get(nodeId);
    return port !== undefined && port <= 65535 ? { host: this.advertisedHost!, port } : undefined;
  }

  /** The port a broker node is served on, when it has one of its own (not with SNI routing). */
  portFor(nodeId: number): number | undefined {
    return this.sni ? undefined : this.addressFor(nodeId)?.port;
  }

  /** What a TLS server name routes to on an SNI listener; undefined for a name the listener does not serve. */
  route(serverName: string): SniRoute | undefined {
    if (!this.sni || !this.sniParts) return undefined;
    const name = serverName.toLowerCase();
    if (name === this.sni.bootstrapHost.toLowerCase()) return { kind: 'bootstrap' };
    const [before, after] = this.sniParts;
    if (!name.startsWith(before) || !name.endsWith(after) || name.length <= before.length + after.length) return undefined;
    const id = name.slice(before.length, name.length - after.length);
    return /^(0|[1-9]\d{0,9})$/.test(id) && Number(id) <= 2 ** 31 - 1 ? { kind: 'broker', nodeId: Number(id) } : undefined;
  }

  /** Whether `host` (lower case) is an address clients of this listener dial: the host an AWS_MSK_IAM client signs. */
  servesHost(host: string): boolean {
    if (this.sni) return this.route(host) !== undefined;
    return host === this.advertisedHost!.toLowerCase();
  }

  describe(): string {
    if (this.sni) return `SNI names ${this.sni.bootstrapHost} and ${this.sni.brokerHostPattern} on port ${this.listener.port}`;
    return this.base !== undefined ? `port ${this.base} + node id` : `ports for node ids ${[...this.map!.keys()].join(', ')}`;
  }
}
