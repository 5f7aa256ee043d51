import * as ipaddr from 'ipaddr.js';
import { ConfigError } from './config.error';

/** What Fastify's `trustProxy` takes from TRUST_PROXY: no proxy (false), every proxy (true), a hop count, or the proxies' addresses. */
export type TrustProxy = boolean | number | string[];

const isAddressOrCidr = (entry: string) => ipaddr.isValid(entry) || (entry.includes('/') && isCidr(entry));
const isCidr = (entry: string) => {
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
};

/**
 * TRUST_PROXY: unset means the client is the socket's peer and `X-Forwarded-For` is ignored (so
 * nobody can pick the address a per-IP limit counts). `true` trusts every hop; a number trusts that
 * many hops; a comma list names the proxies (addresses or CIDRs) whose `X-Forwarded-For` is believed.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const value = raw?.trim();
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const entries = value.split(',').map((e) => e.trim());
  const bad = entries.find((e) => !isAddressOrCidr(e));
  if (bad !== undefined) throw new ConfigError('TRUST_PROXY', `must be true, a hop count, or a comma list of addresses/CIDRs; "${bad}" is none of these`);
  return entries;
}
