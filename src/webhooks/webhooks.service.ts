import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { Page, toPage } from '../common/pagination';
import { WebhookConfig } from '../config/webhook.config';
import { EventFeed } from '../events/event-feed';
import type { EventType } from '../events/event.view';
import { refusalOf } from './webhook-address';
import { newWebhookSecret } from './webhook-signature';
import type { CreatedWebhookView, DeliveryAttemptView, WebhookView } from './webhook.view';

type WebhookRow = { id: number; url: string; events: EventType[]; created_at: Date; secret?: string };
const toView = (r: WebhookRow): WebhookView => ({ id: r.id, url: r.url, events: r.events, createdAt: r.created_at.toISOString() });
type AttemptRow = { id: number; event_id: number; attempt: number; status: number | null; error: string | null; at: Date };

/** Webhook endpoints, registered by an admin; deliveries are WebhookDispatcher's. */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: WebhookConfig,
    private readonly feed: EventFeed,
  ) {}

  /**
   * Receives the events from now on. Those committed before are placed in the feed first, so
   * none of them is sent (an event placed after the endpoint's registration would be).
   */
  async create(url: string, events: EventType[]): Promise<CreatedWebhookView> {
    const refused = await refusalOf(url, this.config.allowPrivate);
    if (refused) throw new DomainError(ErrorCode.VALIDATION_FAILED, `url is refused: ${refused}`);
    await this.feed.place({ wait: true });
    const [row] = await this.db.query<WebhookRow[]>(
      `INSERT INTO webhooks (url, events, secret, fanned_through) VALUES ($1, $2, $3, (SELECT coalesce(max(position), 0) FROM coupon_events))
       RETURNING id, url, events, secret, created_at`,
      [url, events, newWebhookSecret()],
    );
    return { ...toView(row), secret: row.secret! };
  }

  async list(): Promise<WebhookView[]> {
    return (await this.db.query<WebhookRow[]>('SELECT id, url, events, created_at FROM webhooks ORDER BY id DESC')).map(toView);
  }

  async remove(id: number): Promise<void> {
    const [, count] = await this.db.query<[unknown[], number]>('DELETE FROM webhooks WHERE id = $1', [id]);
    if (!count) throw notFound(id);
  }

  /** The endpoint's delivery attempts, newest first. */
  async attempts(id: number, cursor: string | undefined, limit: number): Promise<Page<DeliveryAttemptView>> {
    const [exists] = await this.db.query('SELECT 1 FROM webhooks WHERE id = $1', [id]);
    if (!exists) throw notFound(id);
    const rows = await this.db.query<AttemptRow[]>(
      `SELECT id, event_id, attempt, status, error, at FROM webhook_attempts WHERE webhook_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [id, cursor ?? null, limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r) => Number(r.id),
      (r) => ({ eventId: Number(r.event_id), attempt: r.attempt, status: r.status, error: r.error, at: r.at.toISOString() }),
    );
  }
}

const notFound = (id: number) => new DomainError(ErrorCode.NOT_FOUND, `Webhook ${id} does not exist`);
