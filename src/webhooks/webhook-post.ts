import { isIP, type LookupFunction } from 'node:net';
import { lookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isInternalAddress } from './webhook-address';

/** A delivery that takes longer is a failure, retried later. */
export const DELIVERY_TIMEOUT_MS = 5000;

/**
 * Resolves as Node would, but refuses an internal address at the moment of connecting: the check
 * before the request and the connection cannot be told two different answers (DNS rebinding).
 */
const externalOnly: LookupFunction = (hostname, options, callback) =>
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const list = addresses as unknown as { address: string; family: number }[];
    const internal = list.find((a) => isInternalAddress(a.address));
    if (internal) return callback(new Error(`${hostname} resolves to ${internal.address}, an internal address`), '', 0);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    callback(null, list[0].address, list[0].family);
  });

/**
 * POSTs the body; the status, or why there was none. Never throws. Unless `allowPrivate`, an
 * internal address is refused here, where the connection is made: a host named by its address
 * (Node looks nothing up for it), or one whose name resolves inside (externalOnly).
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, allowPrivate: boolean): Promise<{ status?: number; error?: string }> {
  const target = new URL(url);
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(literal) && isInternalAddress(literal)) return Promise.resolve({ error: `${literal} is an internal address` });
  return new Promise((resolve) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'coupon-service-webhooks', ...headers },
        lookup: allowPrivate ? undefined : externalOnly,
        timeout: DELIVERY_TIMEOUT_MS,
      },
      (response) => {
        response.resume(); // the receiver's body is not read, only drained
        response.on('end', () => resolve({ status: response.statusCode }));
        response.on('error', (error) => resolve({ status: response.statusCode, error: error.message }));
      },
    );
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`)), DELIVERY_TIMEOUT_MS);
    request.on('close', () => clearTimeout(deadline));
    request.on('timeout', () => request.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`)));
    request.on('error', (error) => resolve({ error: error.message }));
    request.end(body);
  });
}
