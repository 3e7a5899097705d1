import { hkdfSync, randomBytes } from 'node:crypto';

/** Node's session-ticket keys: 16 bytes naming the key, 16 for HMAC, 16 for AES. */
const TICKET_KEYS_BYTES = 48;

/** A secret the supervisor makes once and hands every worker it ever starts, so tickets outlive restarts too. */
export function newTicketSecret(): Buffer {
  return randomBytes(32);
}

/**
 * The ticket keys of one listener, derived from the proxy's secret: every worker derives the
 * same, and each listener its own, so a ticket from one listener never resumes a session on
 * another (whose client-certificate rules may differ).
 */
export function ticketKeysFor(secret: Buffer, listener: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `kafka-auth-proxy tls session tickets: ${listener}`, TICKET_KEYS_BYTES));
}
