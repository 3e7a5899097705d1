import type { Recording } from './recording.js';

/** One client seen on a plaintext listener, and whether its client id has turned up authenticated. */
export interface ClientMigration {
  clientId: string;
  address: string;
  lastSeenOnPlaintext: string;
  moved: boolean;
  /** The principals the same client id authenticated as (empty while it has not moved). */
  principals: string[];
}

/**
 * For each client id and address seen without authentication: has the same client id appeared
 * on an authenticated listener that records access, and as whom.
 */
export function migrationStatus(recording: Recording): ClientMigration[] {
  const principalsByClientId = new Map<string, Set<string>>();
  for (const identity of recording.identities) {
    if (!identity.authenticated) continue;
    for (const clientId of identity.clientIds) principalsByClientId.set(clientId, (principalsByClientId.get(clientId) ?? new Set()).add(identity.principal));
  }
  const clients = new Map<string, ClientMigration>();
  for (const identity of recording.identities) {
    if (identity.authenticated) continue;
    const clientId = identity.clientIds[0] ?? '';
    const address = identity.addresses[0] ?? '';
    const key = JSON.stringify([clientId, address]);
    const lastSeen = new Date(identity.lastSeen).toISOString();
    const known = clients.get(key);
    if (known) {
      if (lastSeen > known.lastSeenOnPlaintext) known.lastSeenOnPlaintext = lastSeen;
      continue;
    }
    const principals = [...(principalsByClientId.get(clientId) ?? [])].sort();
    clients.set(key, { clientId, address, lastSeenOnPlaintext: lastSeen, moved: principals.length > 0, principals });
  }
  return [...clients.values()].sort((a, b) => a.clientId.localeCompare(b.clientId) || a.address.localeCompare(b.address));
}

export function formatMigrationStatus(clients: readonly ClientMigration[]): string {
  const header = ['CLIENT ID', 'ADDRESS', 'PLAINTEXT LAST SEEN', 'MOVED', 'PRINCIPALS'];
  const cells = [header, ...clients.map((c) => [c.clientId, c.address, c.lastSeenOnPlaintext, c.moved ? 'yes' : 'no', c.principals.join(' ')])];
  const widths = header.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const onPlaintext = clients.filter((c) => !c.moved).length;
  return cells
    .map((line) => line.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())
    .concat(`${clients.length - onPlaintext} moved, ${onPlaintext} still on plaintext`)
    .join('\n')
    .concat('\n');
}
