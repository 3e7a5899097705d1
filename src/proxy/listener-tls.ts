import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { type SecureContextOptions, Server as TlsServer, type TLSSocket, createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../config/schema.js';
import { WatchedFile } from '../config/watched-file.js';
import { chainExpiry } from '../tls/chain-expiry.js';

export type ListenerTlsConfig = NonNullable<ListenerConfig['tls']>;

/** Why a TLS handshake did not complete, as a class for logs and metrics. */
export type HandshakeFailure = 'timeout' | 'closed' | 'tls-error' | 'client-certificate';

/** A completed handshake: the socket, and the server name the client asked for (SNI), if any. */
export interface Handshake {
  socket: TLSSocket;
  serverName: string | undefined;
}

export type HandshakeResult = Handshake | { failed: HandshakeFailure; reason: string };

type Waiting = (result: HandshakeResult) => void;

/** The listener's limits, which a reload updates in place: read at each handshake. */
export interface HandshakeLimits {
  authenticationTimeoutMs: number;
}

/** Past every timeout the config allows: the handshake's own timer (from the live limits) ends it first. */
const NODE_HANDSHAKE_TIMEOUT_MS = 2 ** 31 - 1;

/** What the files give: the server's options, and when the first certificate of the chain to expire does. */
interface LoadedCertificate {
  options: SecureContextOptions;
  expiresAtSeconds: number;
}

/**
 * The TLS side of one listener. Accepted sockets are handed to a tls.Server that never listens
 * itself (the listener's own servers count and limit connections first), which does the
 * handshake, its timeout and the check of client certificates. Its certificate, key and CA are
 * read again when the files change (cert-manager rotates them), for new connections only, so
 * live connections carry on; a broken or half-written set keeps the previous one and says why.
 */
export class ListenerTls {
  /** Handshakes under way, by TCP connection (both addresses and ports). */
  private readonly waiting = new Map<string, Waiting>();

  private constructor(
    private readonly config: ListenerTlsConfig,
    private readonly limits: HandshakeLimits,
    private readonly server: TlsServer,
    private readonly watched: WatchedFile<LoadedCertificate>,
  ) {
    server.on('secureConnection', (socket: TLSSocket) => this.secured(socket));
    server.on('tlsClientError', (e: NodeJS.ErrnoException, socket: TLSSocket) => this.settle(socket, { failed: 'tls-error', reason: e.code ?? e.message }));
  }

  /**
   * `expiry` hears when the listener's certificate chain expires, at start and after every
   * reload. `ticketKeys` (48 bytes) encrypt session tickets: the workers of one proxy share them,
   * so a client resumes on whichever worker its next connection reaches; without them the
   * process makes its own.
   */
  static async start(
    config: ListenerTlsConfig,
    limits: HandshakeLimits,
    log: Logger,
    expiry: (expiresAtSeconds: number) => void,
    options: { watchIntervalMs?: number; ticketKeys?: Buffer } = {},
  ): Promise<ListenerTls> {
    const files = [config.certFile, config.keyFile, ...(config.caFile ? [config.caFile] : [])];
    let server: TlsServer | undefined;
    const watched = await WatchedFile.openAll(
      files,
      () => loadCertificate(config),
      {
        replaced: (loaded, reason) => {
          if (server) {
            // A new context would get new session-ticket keys: keep them, so clients still resume after a rotation.
            const ticketKeys = server.getTicketKeys();
            server.setSecureContext(loaded.options);
            server.setTicketKeys(ticketKeys);
          }
          expiry(loaded.expiresAtSeconds);
          log.info({ reason }, 'TLS certificate reloaded; new connections use it');
        },
        rejected: (e, reason) => log.error({ reason, err: (e as Error).message }, 'cannot reload the TLS certificate; new connections keep the previous one'),
      },
      options,
    );
    expiry(watched.value.expiresAtSeconds);
    server = new TlsServer({
      ...watched.value.options,
      requestCert: config.clientAuth !== 'none',
      // Certificates are judged in secured(), with the reason at hand for the log.
      rejectUnauthorized: false,
      handshakeTimeout: NODE_HANDSHAKE_TIMEOUT_MS,
      ...(options.ticketKeys ? { ticketKeys: options.ticketKeys } : {}),
    });
    return new ListenerTls(config, limits, server, watched);
  }

  /** Re-reads the files (SIGHUP); resolves false when the previous certificate was kept. */
  reload(reason = 'SIGHUP'): Promise<boolean> {
    return this.watched.reload(reason);
  }

  stop(): void {
    this.watched.stop();
  }

  /**
   * Runs the server side of a handshake on an accepted socket. `done` gets the TLS socket once
   * the handshake completes, or why it did not; it is called once, and a failed socket is
   * destroyed.
   */
  handshake(socket: Socket, done: (result: HandshakeResult) => void): void {
    const key = connectionKey(socket);
    if (this.waiting.has(key)) {
      // The same four-tuple again before the first one's close was seen (a reset and a quick
      // reconnect): the results could not be told apart, so the newcomer goes.
      socket.destroy();
      done({ failed: 'closed', reason: 'a handshake on the same addresses and ports is still pending' });
      return;
    }
    const timeoutMs = this.limits.authenticationTimeoutMs;
    const timer = setTimeout(() => end({ failed: 'timeout', reason: `no TLS handshake within ${timeoutMs} ms` }), timeoutMs);
    const finished: Waiting = (result) => {
      clearTimeout(timer);
      done(result);
    };
    // Ends a handshake that will not finish: the raw socket goes, and whatever the TLS socket says after finds nobody waiting.
    const end = (result: { failed: HandshakeFailure; reason: string }) => {
      if (this.waiting.get(key) !== finished) return;
      this.waiting.delete(key);
      socket.destroy();
      finished(result);
    };
    this.waiting.set(key, finished);
    // A client that leaves mid-handshake may get no tlsClientError.
    socket.once('close', () => end({ failed: 'closed', reason: 'the client closed the connection during the TLS handshake' }));
    this.server.emit('connection', socket);
  }

  private secured(socket: TLSSocket): void {
    if (this.config.clientAuth === 'required' && !socket.authorized) {
      const why = socket.getPeerX509Certificate() ? String(socket.authorizationError) : 'none presented';
      this.settle(socket, { failed: 'client-certificate', reason: `client certificate refused: ${why}` });
      return;
    }
    const serverName = (socket as TLSSocket & { servername?: string | false }).servername;
    this.settle(socket, { socket, serverName: typeof serverName === 'string' ? serverName : undefined });
  }

  private settle(socket: TLSSocket, result: HandshakeResult): void {
    const key = connectionKey(socket);
    const done = this.waiting.get(key);
    this.waiting.delete(key);
    if ('failed' in result || done === undefined) {
      // The peer's reset after this has nowhere else to go.
      socket.on('error', () => {});
      socket.destroy();
    }
    done?.(result);
  }
}

/**
 * One TCP connection on this host: the client's address and port and the proxy's. A TLS socket
 * reports its raw socket's; one already reset may report none and then matches nothing (its raw
 * socket's close settles it).
 */
function connectionKey(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}>${socket.localAddress}:${socket.localPort}`;
}

async function loadCertificate(config: ListenerTlsConfig): Promise<LoadedCertificate> {
  const [cert, key, ca] = await Promise.all([readFile(config.certFile), readFile(config.keyFile), config.caFile ? readFile(config.caFile) : undefined]);
  const options: SecureContextOptions = { cert, key, passphrase: config.keyPassword, ca, minVersion: config.minVersion, ciphers: config.ciphers };
  // Throws on a key that does not match the certificate or cannot be decrypted: the old one stays.
  createSecureContext(options);
  return { options, expiresAtSeconds: chainExpiry(cert) };
}
