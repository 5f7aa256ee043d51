import * as ipaddr from 'ipaddr.js';

/** Bits of an IPv6 address that name one client: a /64 is what one subscriber or host is given. */
const IPV6_CLIENT_PREFIX = 64;

/**
 * The key per-address limits count by. An IPv4 address (or one mapped into IPv6) is itself; an
 * IPv6 address counts by its /64, since one client can pick from 2^64 addresses there. Anything
 * unparseable (a test's socket, say) is kept as it is.
 */
export function clientKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const ip = ipaddr.process(address); // ::ffff:a.b.c.d becomes a.b.c.d
  if (ip.kind() === 'ipv4') return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, IPV6_CLIENT_PREFIX / 16);
  return `${parts.map((p) => p.toString(16)).join(':')}::/${IPV6_CLIENT_PREFIX}`;
}
