import { createHmac, randomBytes } from 'node:crypto';

/** A new endpoint's signing secret, shown once. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

/**
 * `Coupon-Signature: t=<unix seconds>,v1=<hex>`, v1 = HMAC-SHA256(secret, `<t>.<raw body>`), as
 * Stripe signs: the receiver recomputes it over the bytes it got, and refuses an old `t` (replays).
 */
export function signatureHeader(secret: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${nowSeconds}.${body}`).digest('hex');
  return `t=${nowSeconds},v1=${v1}`;
}
