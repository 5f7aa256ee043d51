import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { RepeatingPass } from '../common/repeating-pass';
import { WebhookConfig } from '../config/webhook.config';
import { EventFeed } from '../events/event-feed';
import { toEventView } from '../events/event.view';
import { ClaimedDelivery, WebhookDeliveries } from './webhook-deliveries';
import { postWebhook } from './webhook-post';
import { signatureHeader } from './webhook-signature';

const EVERY_MS = 250;
/** Deliveries one process sends at once. */
const AT_ONCE = 50;
const MAX_RETRY_MS = 3_600_000;
/** How long a stop waits for the delivery run under way (one POST's timeout, and a little). */
const LAST_TICK_MS = 6_000;

/**
 * Sends the webhooks, wherever the strategy runs its background work (the API process, or the
 * `queue`'s workers): every quarter second it places new events in the feed, fans them out to the
 * endpoints that want them, claims due deliveries under a lease, and POSTs each, signed. A 2xx
 * within 5 s is delivered; anything else is retried, WEBHOOK_RETRY_BASE_MS doubling up to an hour.
 * Nothing is held locked over the network, and a process killed mid-delivery loses nothing: its
 * leases run out and another process (or it, restarted) sends those again, with the same event id.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly passes = new RepeatingPass(
    EVERY_MS,
    () => this.tick(),
    (error) => this.logger.warn(`webhook delivery: ${error.message}`),
  );

  constructor(
    private readonly feed: EventFeed,
    private readonly deliveries: WebhookDeliveries,
    private readonly config: WebhookConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.passes.start();
  }

  /**
   * Before any module closes, the last tick finishes while PostgreSQL is still there to record it;
   * for a few seconds at most, since the queue worker's stop comes after this one and must not wait
   * on a tick held up (a statement waiting on a lock). A tick cut short loses nothing: its
   * deliveries' leases run out and they are sent again.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if ((await this.passes.stopWithin(LAST_TICK_MS)) === 'late') this.logger.warn(`stopping with a delivery run still under way after ${LAST_TICK_MS} ms`);
  }

  async tick(): Promise<void> {
    await this.feed.place();
    await this.deliveries.fanOut();
    const due = await this.deliveries.claim(AT_ONCE);
    await Promise.all(due.map((d) => this.deliver(d)));
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const body = JSON.stringify(toEventView(d));
    const headers = { 'coupon-event-id': String(d.event_id), 'coupon-signature': signatureHeader(d.secret, body) };
    // an internal address is refused by postWebhook as it connects (DNS may have changed since registration)
    const outcome = await postWebhook(d.url, body, headers, this.config.allowPrivate);
    const retryInMs = Math.min(this.config.retryBaseMs * 2 ** Math.min(d.attempts - 1, 30), MAX_RETRY_MS);
    await this.deliveries.finish(d, outcome, retryInMs);
  }
}
