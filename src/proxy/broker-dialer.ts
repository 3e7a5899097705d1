import { readFileSync } from 'node:fs';
import { type Socket, connect as connectTcp, isIP } from 'node:net';
import { type ConnectionOptions, type SecureContext, connect as connectTls, createSecureContext } from 'node:tls';
import type { ProxyConfig } from '../config/schema.js';

export type UpstreamTlsConfig = NonNullable<ProxyConfig['upstream']['tls']>;

/** Why a connection never became usable; `handshake` when TCP connected but TLS did not. */
export type DialFailed = (reason: string, handshake: boolean) => void;

/**
 * How the proxy opens every connection to a broker: its clients' connections and its own
 * (discovery, topic ids). Plaintext, or TLS with one secure context built at start.
 */
export interface BrokerDialer {
  readonly tls: boolean;
  /**
   * Opens a connection. `ready` runs once it may carry requests (for TLS, after the handshake
   * and the certificate checks); `failed` runs at most once, with the reason, if it never gets
   * there. Neither runs after the caller destroys the socket. From `ready` on the caller owns
   * the socket's 'error' events and must listen for them.
   */
  dial(host: string, port: number, ready: () => void, failed: DialFailed): Socket;
}

/** Connects over plain TCP, as the proxy always did. */
export const PLAINTEXT_DIALER: BrokerDialer = {
  tls: false,
  dial(host, port, ready, failed) {
    const socket = connectTcp({ host, port, noDelay: true });
    const onError = (e: Error) => failed(e.message, false);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.removeListener('error', onError);
      ready();
    });
    return socket;
  },
};

/** The dialer for `upstream.tls`: plaintext when it is unset. Reads the files now; throws naming the one that cannot be used. */
export function brokerDialer(tls: UpstreamTlsConfig | undefined): BrokerDialer {
  if (!tls) return PLAINTEXT_DIALER;
  return new TlsDialer(upstreamSecureContext(tls), tls.checkServerName);
}

/** One secure context for every broker connection: the CA bundle (system CAs when unset) and the client certificate. */
export function upstreamSecureContext(tls: UpstreamTlsConfig): SecureContext {
  const ca = tls.caFile === undefined ? undefined : readPem('caFile', tls.caFile);
  const cert = tls.certFile === undefined ? undefined : readPem('certFile', tls.certFile);
  const key = tls.keyFile === undefined ? undefined : readPem('keyFile', tls.keyFile);
  try {
    return createSecureContext({ ca, cert, key, passphrase: tls.keyPassword });
  } catch (e) {
    // OpenSSL names the part it choked on only by its own terms; say which files were in play.
    const files = [
      tls.caFile && `caFile ${tls.caFile}`,
      tls.certFile && `certFile ${tls.certFile}`,
      tls.keyFile && `keyFile ${tls.keyFile}${tls.keyPassword === undefined ? '' : ' (with keyPassword)'}`,
    ].filter(Boolean);
    throw new Error(`upstream.tls: cannot use ${files.join(', ')}: ${describeTlsError(e as Error)}`);
  }
}

function readPem(key: string, path: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`upstream.tls.${key}: cannot read ${path}: ${err.code ?? err.message}`);
  }
  if (!pem.includes('-----BEGIN ')) throw new Error(`upstream.tls.${key}: ${path} holds no PEM block`);
  return pem;
}

/**
 * A socket error as one line led by its code, the part an operator searches for. OpenSSL errors
 * (a broker's alert, such as a refused client certificate) carry a multi-line message with
 * source paths: their code and short reason stand in for it. Plain TCP errors are unchanged.
 */
export function describeTlsError(e: Error): string {
  const { code, reason } = e as Error & { code?: string; reason?: string };
  if (code && reason) return `${code}: ${reason}`;
  return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
}

class TlsDialer implements BrokerDialer {
  readonly tls = true;
  /** Skips the name check only: the chain is still verified against the CA bundle. */
  private readonly skipNameCheck: ConnectionOptions['checkServerIdentity'];

  constructor(
    private readonly secureContext: SecureContext,
    checkServerName: boolean,
  ) {
    this.skipNameCheck = checkServerName ? undefined : () => undefined;
  }

  dial(host: string, port: number, ready: () => void, failed: DialFailed): Socket {
    const options: ConnectionOptions = { host, port, secureContext: this.secureContext, rejectUnauthorized: true };
    // SNI carries DNS names only (RFC 6066); an IP address is still checked against the certificate's IP SANs.
    if (isIP(host) === 0) options.servername = host;
    // Only when set: tls.connect takes an explicit undefined as "no check function".
    if (this.skipNameCheck) options.checkServerIdentity = this.skipNameCheck;
    const socket = connectTls(options);
    socket.setNoDelay(true);
    let tcpConnected = false;
    socket.once('connect', () => (tcpConnected = true));
    const onError = (e: Error) => {
      if (tcpConnected) failed(`TLS handshake failed: ${describeTlsError(e)}`, true);
      else failed(e.message, false);
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.removeListener('error', onError);
      ready();
    });
    return socket;
  }
}
