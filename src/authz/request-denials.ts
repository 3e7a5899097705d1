import { shortened } from '../observe/client-text.js';
import type { EnforcementMode } from './denial-log.js';
import type { Operation, ResourceKind } from './operations.js';

/** cluster-action: what brokers need of each other, never granted to clients. */
export type DeniedOperation = Operation | 'cluster-action';

/** One denied entity as a log line quotes it. */
export interface DeniedResource {
  resourceType: ResourceKind;
  resourceName: string;
  operation: DeniedOperation;
}

/** How many denied entities a line quotes: enough to recognise the request, bounded whatever it names. */
export const RESOURCES_SHOWN = 5;

/**
 * The denials of one request, gathered while its rule runs so that the log gets one line for
 * the request however many entities it names: a count per resource kind and operation, and
 * the first few names. Memory stays the same for 1 denial or 150,000.
 */
export class RequestDenials {
  count = 0;
  readonly shown: DeniedResource[] = [];
  /** Denials per kind and operation, in the order first seen. */
  readonly perOperation = new Map<string, { kind: ResourceKind; operation: DeniedOperation; count: number }>();

  /** Starts as the listener's mode; a refusal that holds in every mode (broker traffic) makes it enforce. */
  constructor(public mode: EnforcementMode) {}

  add(kind: ResourceKind, name: string, operation: DeniedOperation, mode: EnforcementMode): void {
    this.count++;
    if (mode === 'enforce') this.mode = 'enforce';
    if (this.shown.length < RESOURCES_SHOWN) this.shown.push({ resourceType: kind, resourceName: shortened(name), operation });
    const key = `${kind}:${operation}`;
    const entry = this.perOperation.get(key);
    if (entry) entry.count++;
    else this.perOperation.set(key, { kind, operation, count: 1 });
  }
}
