import { EventEmitter } from 'node:events';
import type { ApiVersionEntry } from './client-apis.js';

export interface BrokerAddress {
  host: string;
  port: number;
}

export interface BrokerEntry extends BrokerAddress {
  nodeId: number;
}

/**
 * What the proxy knows of the cluster behind it: the real address of every broker node, learned
 * from its own Metadata requests and from responses passing through, and the API versions the
 * brokers serve. Emits 'added' (nodeId) for a node seen for the first time, so listeners can
 * open its port.
 */
export class ClusterView extends EventEmitter<{ added: [nodeId: number] }> {
  private readonly brokers = new Map<number, BrokerAddress>();
  /** The brokers' ApiVersions answer, for answering clients the proxy must answer itself. */
  apiVersions: ApiVersionEntry[] = [];

  update(entries: readonly BrokerEntry[]): void {
    for (const e of entries) {
      const known = this.brokers.get(e.nodeId);
      if (known && known.host === e.host && known.port === e.port) continue;
      this.brokers.set(e.nodeId, { host: e.host, port: e.port });
      if (!known) this.emit('added', e.nodeId);
    }
  }

  get(nodeId: number): BrokerAddress | undefined {
    return this.brokers.get(nodeId);
  }

  nodeIds(): number[] {
    return [...this.brokers.keys()].sort((a, b) => a - b);
  }
}
