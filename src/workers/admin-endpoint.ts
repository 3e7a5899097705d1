import type { Server } from 'node:http';
import type { ProxyConfig } from '../config/schema.js';
import { type AdminSource, startAdminServer } from '../observe/admin-server.js';
import { readAdminToken } from '../observe/admin-token.js';
import type { Logger } from '../observe/logger.js';

/** Where the admin endpoint listens, as configured (compared as written, not as resolved). */
interface AdminBinding {
  bind: string;
  port: number;
}

/** Stops listening and ends its keep-alive connections (a scraper's), so the port is free at once. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The supervisor's admin endpoint: where it listens and the token it asks for, both following
 * the config through reloads. A move binds the new address before the old one closes, so a
 * failed move leaves the endpoint where it was; only a move to another address on the same port
 * closes the old one first.
 */
export class AdminEndpoint {
  private bound: (AdminBinding & { server: Server }) | undefined;
  private token: Buffer | undefined;

  constructor(
    private readonly source: AdminSource,
    private readonly log: Logger,
  ) {}

  /** Reads the token file and binds where `admin` says; rejects saying why (what could not change stays as it was). */
  async configure(admin: ProxyConfig['admin']): Promise<void> {
    this.token = admin?.tokenFile ? readAdminToken(admin.tokenFile) : undefined;
    await this.bind(admin);
  }

  async close(): Promise<void> {
    const bound = this.bound;
    this.bound = undefined;
    if (bound) await closeServer(bound.server);
  }

  private async bind(admin: ProxyConfig['admin']): Promise<void> {
    const binding = admin && { bind: admin.bind, port: admin.port };
    const old = this.bound;
    if (old && binding && old.bind === binding.bind && old.port === binding.port) return;
    if (!binding) return this.close();
    let server: Server;
    try {
      server = await this.listen(binding);
    } catch (e) {
      if (!old || old.port !== binding.port) throw e;
      await closeServer(old.server);
      this.bound = undefined;
      try {
        server = await this.listen(binding);
      } catch (again) {
        this.bound = { ...old, server: await this.listen(old) };
        throw again;
      }
    }
    this.bound = { server, ...binding };
    if (old?.server.listening) await closeServer(old.server);
    this.log.info({ ...binding, token: this.token !== undefined }, 'admin server listening (/healthz, /readyz, /status, /metrics, POST /listeners/{name}/mode, POST /reload)');
  }

  private listen({ bind, port }: AdminBinding): Promise<Server> {
    return startAdminServer(bind, port, this.source, () => this.token, (e) => this.log.error({ err: e.message }, 'admin server error'));
  }
}
