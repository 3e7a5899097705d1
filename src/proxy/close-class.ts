/** Why a client connection ended, as a fixed class for metric labels (the log line has the full reason). */
export type CloseClass =
  | 'client-closed'
  | 'broker-closed'
  /** No broker behind the port was known or reachable. */
  | 'broker-unreachable'
  | 'idle-timeout'
  | 'malformed-request'
  /** An API or version the proxy does not offer (closed, as a broker does). */
  | 'unsupported-request'
  /** Refused before any request: a failed TLS handshake or an SNI name the listener does not serve. */
  | 'tls-failed'
  | 'authentication-failed'
  | 'authentication-timeout'
  | 'session-expired'
  /** A reload took the session's credential away. */
  | 'revoked'
  /** A connection limit or a proxy-wide memory budget. */
  | 'limit'
  | 'shutdown'
  /** A fault of the proxy's own, or a broker response it could not pass on. */
  | 'error'
  | 'other';

/** The reasons a session closes with (ClientSession and ProxyListener), exactly. */
const EXACT: Readonly<Record<string, CloseClass>> = {
  'client closed the connection': 'client-closed',
  'broker closed the connection': 'broker-closed',
  'unknown broker': 'broker-unreachable',
  'idle timeout': 'idle-timeout',
  'malformed request': 'malformed-request',
  'unsupported request': 'unsupported-request',
  'authentication failed': 'authentication-failed',
  'session expired': 'session-expired',
  'session revoked': 'revoked',
  'pre-authentication byte budget exhausted': 'limit',
  'request buffer budget exhausted': 'limit',
  'held-response budget exhausted': 'limit',
  'proxy shutting down': 'shutdown',
  'shutdown grace period over': 'shutdown',
  'internal error': 'error',
  'authorization failed internally': 'error',
  'broker response refused': 'error',
};

/** Reasons that carry a detail after a fixed start. */
const PREFIXES: readonly (readonly [string, CloseClass])[] = [
  // A reset or an abort from the client's side: it went away, abruptly.
  ['client connection failed: ', 'client-closed'],
  ['broker connection failed: ', 'broker-closed'],
  ['no broker reachable ', 'broker-unreachable'],
  ['evicted: ', 'limit'],
  ['not authenticated within ', 'authentication-timeout'],
];

/** The class of a session's close reason; 'other' for a reason this table does not know. */
export function closeClassOf(reason: string): CloseClass {
  if (Object.hasOwn(EXACT, reason)) return EXACT[reason];
  return PREFIXES.find(([start]) => reason.startsWith(start))?.[1] ?? 'other';
}
