import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loopbackServer, makeCa } from '../test/support/certificates.js';

/** PEM files a bench's TLS listener serves, and the CA its clients trust. */
export interface BenchCertificates {
  certFile: string;
  keyFile: string;
  caFile: string;
  /** The CA certificate, PEM, for clients in the bench's own process. */
  caPem: string;
}

/**
 * A CA and a server certificate for 127.0.0.1 and localhost (RSA 2048, as the tests make them
 * with node-forge), written to `dir`: nothing downloaded, nothing kept after the bench.
 */
export async function benchCertificates(dir: string): Promise<BenchCertificates> {
  const ca = makeCa('kafka-auth-proxy bench CA');
  const server = loopbackServer(ca);
  const files = { certFile: join(dir, 'tls-server.pem'), keyFile: join(dir, 'tls-server-key.pem'), caFile: join(dir, 'tls-ca.pem') };
  await Promise.all([writeFile(files.certFile, server.cert), writeFile(files.keyFile, server.key), writeFile(files.caFile, ca.cert)]);
  return { ...files, caPem: ca.cert };
}
