import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The proxy's Prometheus metrics. Labels carry listener, API and resource kind only: never
 * principals, resource names or anything from a credential, so cardinality stays bounded and
 * nothing secret can leak through a label.
 */
export class ProxyMetrics {
  readonly registry = new Registry();

  readonly denials = new Counter({
    name: 'kafka_proxy_authorization_denials_total',
    help: 'Entities refused by the policy (in audit mode: would have been refused), by listener, API, resource kind and mode',
    labelNames: ['listener', 'api', 'resource', 'mode'] as const,
    registers: [this.registry],
  });

  readonly droppedProduce = new Counter({
    name: 'kafka_proxy_dropped_produce_requests_total',
    help: 'acks=0 Produce requests dropped because every topic in them was denied (such requests get no response to carry an error)',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}
