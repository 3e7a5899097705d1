import { describe, expect, it } from 'vitest';
import { clientHost } from '../../src/proxy/client-host.js';

describe('clientHost', () => {
  it('keeps IPv4 addresses, and IPv4-mapped ones, per address', () => {
    expect(clientHost('10.0.0.1')).toBe('10.0.0.1');
    expect(clientHost('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(clientHost('::ffff:10.0.0.2')).not.toBe(clientHost('::ffff:10.0.0.1'));
  });

  it('takes an IPv6 address as its /64, however it is written', () => {
    const host = '2001:db8:0:1::/64';
    expect(clientHost('2001:db8:0:1::1')).toBe(host);
    expect(clientHost('2001:0db8:0000:0001:aaaa:bbbb:cccc:dddd')).toBe(host);
    expect(clientHost('2001:DB8:0:1:ffff::')).toBe(host);
    expect(clientHost('2001:db8::1:0:0:1')).toBe('2001:db8:0:0::/64');
    expect(clientHost('2001:db8:0:2::1')).not.toBe(host);
  });

  it('expands a leading ::, drops a zone id and reads an embedded IPv4 tail', () => {
    expect(clientHost('::1')).toBe('0:0:0:0::/64');
    expect(clientHost('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientHost('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(clientHost('1:2:3:4:5:6:1.2.3.4')).toBe('1:2:3:4::/64');
  });
});
