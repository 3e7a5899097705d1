import { X509Certificate } from 'node:crypto';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** When the first certificate of a PEM chain to expire does (Unix seconds): the chain stops working then. */
export function chainExpiry(pem: Buffer | string): number {
  const blocks = pem.toString().match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate');
  return Math.min(...blocks.map((block) => Math.floor(new Date(new X509Certificate(block).validTo).getTime() / 1000)));
}
