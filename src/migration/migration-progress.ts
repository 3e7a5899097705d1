/** Clients first seen since the last report: what a worker tells the supervisor, which counts for the whole proxy. */
export interface MigrationNews {
  /** Client id ('' for none) and address of each new client on a plaintext listener. */
  plaintext: [clientId: string, address: string][];
  /** Client ids new on an authenticated listener. */
  authenticated: string[];
}

/**
 * How many clients (client id and address, as `migration status` lists them) seen on a plaintext
 * listener have not turned up on an authenticated one under the same client id: the
 * kafka_proxy_plaintext_clients gauge. Each set holds at most `maxClients`; what comes after is
 * not counted (the recording, with its own caps, still has it).
 */
export class MigrationProgress {
  private readonly plaintext = new Map<string, Set<string>>();
  private readonly moved = new Set<string>();
  private plaintextClients = 0;
  private onPlaintext = 0;
  private news: MigrationNews = { plaintext: [], authenticated: [] };

  constructor(
    private readonly maxClients: number,
    /** Keep what is new for takeNews (a worker); a process that counts only for itself does not. */
    private readonly keepNews = false,
  ) {}

  /** Clients on a plaintext listener that have not moved. */
  get stillOnPlaintext(): number {
    return this.onPlaintext;
  }

  plaintextClient(clientId: string, address: string): void {
    let addresses = this.plaintext.get(clientId);
    if (addresses?.has(address) || this.plaintextClients >= this.maxClients) return;
    if (!addresses) this.plaintext.set(clientId, (addresses = new Set()));
    addresses.add(address);
    this.plaintextClients++;
    if (!this.moved.has(clientId)) this.onPlaintext++;
    if (this.keepNews) this.news.plaintext.push([clientId, address]);
  }

  authenticatedClient(clientId: string): void {
    if (this.moved.has(clientId) || this.moved.size >= this.maxClients) return;
    this.moved.add(clientId);
    this.onPlaintext -= this.plaintext.get(clientId)?.size ?? 0;
    if (this.keepNews) this.news.authenticated.push(clientId);
  }

  add(news: MigrationNews): void {
    for (const [clientId, address] of news.plaintext) this.plaintextClient(clientId, address);
    for (const clientId of news.authenticated) this.authenticatedClient(clientId);
  }

  /** What is new since the last call, or undefined when nothing is. */
  takeNews(): MigrationNews | undefined {
    const news = this.news;
    if (news.plaintext.length === 0 && news.authenticated.length === 0) return undefined;
    this.news = { plaintext: [], authenticated: [] };
    return news;
  }
}
