import { MAX_CLIENT_TEXT, shortened } from '../observe/client-text.js';
import type { Operation, ResourceKind } from '../authz/operations.js';
import { unmappedIp } from '../proxy/client-host.js';
import { ANONYMOUS } from '../proxy/listener-authorization.js';
import { type RecordedIdentity, type RecordedUse, type Recording, identityKey } from './recording.js';

/** The caps that bound the recorder's memory (config accessRecording; docs/migration.md). */
export interface RecorderLimits {
  maxIdentities: number;
  maxEntriesPerIdentity: number;
}

/** For the recorder's metrics. */
export interface RecorderEvents {
  entryAdded(): void;
  dropped(): void;
  /** A session without authentication, whether or not its identity fits under the caps. */
  plaintextClient(clientId: string, address: string): void;
  /** An authenticated session with a client id, likewise. */
  authenticatedClient(clientId: string): void;
}

/** The session a use comes from. */
export interface RecordingRequester {
  listener: string;
  principal: string;
  clientAddress: string;
  clientId: string | null;
}

/** An authenticated principal's addresses and client ids are kept up to this many each: enough to tell where it runs. */
const MAX_ORIGINS_PER_PRINCIPAL = 16;

/** The IP address of a session's "address:port" (each connection has its own port; the address is the client). */
function addressOf(clientAddress: string): string {
  return unmappedIp(clientAddress.slice(0, clientAddress.lastIndexOf(':')));
}

/** One identity's uses, as one session records them (sessions cache it; it never goes away while the process runs). */
export class IdentityRecorder {
  /** By kind, operation and name: looked up without building a key, as this runs on every check. */
  private readonly uses = new Map<ResourceKind, Map<Operation, Map<string, RecordedUse>>>();
  private count = 0;

  constructor(
    readonly identity: Omit<RecordedIdentity, 'uses'>,
    private readonly recorder: AccessRecorder,
  ) {}

  note(kind: ResourceKind, requested: string, operation: Operation): void {
    // Kafka's names fit whole; a client's absurd one is kept cut, so one request cannot hold megabytes here.
    const name = requested.length > MAX_CLIENT_TEXT ? shortened(requested) : requested;
    const now = Date.now();
    this.identity.lastSeen = now;
    let byOperation = this.uses.get(kind);
    if (!byOperation) this.uses.set(kind, (byOperation = new Map()));
    let byName = byOperation.get(operation);
    if (!byName) byOperation.set(operation, (byName = new Map()));
    const use = byName.get(name);
    if (use) {
      use.lastSeen = now;
      use.count++;
    } else if (this.count < this.recorder.limits.maxEntriesPerIdentity) {
      byName.set(name, { kind, name, operation, firstSeen: now, lastSeen: now, count: 1 });
      this.count++;
      this.recorder.events.entryAdded();
    } else {
      this.recorder.drop();
    }
  }

  addOrigin(address: string, clientId: string | null): void {
    const { addresses, clientIds } = this.identity;
    if (!addresses.includes(address) && addresses.length < MAX_ORIGINS_PER_PRINCIPAL) addresses.push(address);
    if (clientId !== null && !clientIds.includes(clientId) && clientIds.length < MAX_ORIGINS_PER_PRINCIPAL) clientIds.push(clientId);
  }

  snapshot(): RecordedIdentity {
    return { ...this.identity, addresses: [...this.identity.addresses], clientIds: [...this.identity.clientIds], uses: [...this.uses.values()].flatMap((byOperation) => [...byOperation.values()].flatMap((byName) => [...byName.values()].map((u) => ({ ...u })))) };
  }
}

/**
 * Who used which topic, group, transactional id and cluster operation, in this process: bounded
 * by `limits` (what no longer fits is counted as dropped, not stored) and written out by a
 * RecordingWriter.
 */
export class AccessRecorder {
  private readonly identities = new Map<string, IdentityRecorder>();
  private dropped = 0;

  constructor(
    readonly limits: RecorderLimits,
    readonly events: RecorderEvents = { entryAdded: () => {}, dropped: () => {}, plaintextClient: () => {}, authenticatedClient: () => {} },
  ) {}

  /** The recorder of `requester`'s identity; undefined (and counted as dropped) once maxIdentities are recorded. */
  identityOf(requester: RecordingRequester): IdentityRecorder | undefined {
    const authenticated = requester.principal !== ANONYMOUS;
    const address = addressOf(requester.clientAddress);
    const clientId = requester.clientId === null ? null : shortened(requester.clientId);
    const origin = { addresses: [address], clientIds: clientId === null ? [] : [clientId] };
    if (!authenticated) this.events.plaintextClient(clientId ?? '', address);
    else if (clientId !== null) this.events.authenticatedClient(clientId);
    const key = identityKey({ listener: requester.listener, principal: requester.principal, authenticated, ...origin });
    let identity = this.identities.get(key);
    if (!identity) {
      if (this.identities.size >= this.limits.maxIdentities) {
        this.drop();
        return undefined;
      }
      const now = Date.now();
      identity = new IdentityRecorder({ listener: requester.listener, principal: requester.principal, authenticated, ...origin, firstSeen: now, lastSeen: now }, this);
      this.identities.set(key, identity);
    } else if (authenticated) {
      identity.addOrigin(address, clientId);
    }
    return identity;
  }

  drop(): void {
    this.dropped++;
    this.events.dropped();
  }

  snapshot(): Recording {
    return { version: 1, identities: [...this.identities.values()].map((i) => i.snapshot()), dropped: this.dropped };
  }

  /** The identities recorded so far, each to be snapshot on its own (RecordingWriter writes them in slices). */
  identityRecorders(): IdentityRecorder[] {
    return [...this.identities.values()];
  }

  get droppedCount(): number {
    return this.dropped;
  }
}
