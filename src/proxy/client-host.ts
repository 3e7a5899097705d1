/**
 * The client a connection counts against for per-IP limits. An IPv4 address is its own host
 * (a dual-stack listener sees it as ::ffff:a.b.c.d); an IPv6 address counts as its /64, since
 * one machine is routinely given a whole /64 and could otherwise take a fresh address per
 * connection.
 */
export function clientHost(ip: string): string {
  const address = unmappedIp(ip);
  return address.includes(':') ? `${ipv6Prefix64(address)}::/64` : address;
}

/** An IPv4 client as a dual-stack listener reports it (::ffff:a.b.c.d) as a.b.c.d; any other address as it is. */
export function unmappedIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** The first four hextets of an IPv6 address, `::` expanded, each without leading zeros. */
function ipv6Prefix64(ip: string): string {
  const address = ip.split('%')[0].toLowerCase();
  const gap = address.indexOf('::');
  let hextets: string[];
  if (gap < 0) {
    hextets = address.split(':');
  } else {
    const head = address.slice(0, gap).split(':').filter(Boolean);
    const tail = address.slice(gap + 2).split(':').filter(Boolean);
    // A trailing dotted IPv4 part (::1.2.3.4) fills two hextets.
    const tailWidth = tail.reduce((n, part) => n + (part.includes('.') ? 2 : 1), 0);
    hextets = [...head, ...Array<string>(Math.max(0, 8 - head.length - tailWidth)).fill('0'), ...tail];
  }
  return hextets
    .slice(0, 4)
    .map((h) => Number.parseInt(h, 16).toString(16))
    .join(':');
}
