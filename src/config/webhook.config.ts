import type { Deployment } from './deployment';
import { bool, type Env, int } from './env-readers';

/** Webhook delivery (WEBHOOK_ALLOW_PRIVATE, WEBHOOK_RETRY_BASE_MS). */
export abstract class WebhookConfig {
  /** URLs may point at loopback, private, link-local or metadata addresses (always in development/test). */
  allowPrivate: boolean;
  /** The first retry of a failed delivery comes after about this long; each next one after twice the last, at most an hour. */
  retryBaseMs: number;
}

export function readWebhookConfig(env: Env, { strict }: Deployment): WebhookConfig {
  return {
    allowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', !strict),
    retryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 1000, 10, 3_600_000),
  };
}
