import { ApiProperty } from '@nestjs/swagger';
import { EVENT_TYPES, type EventType } from '../events/event.view';

export class WebhookView {
  @ApiProperty({ example: 2 }) id: number;
  @ApiProperty({ example: 'https://crm.example.com/hooks/coupons' }) url: string;
  @ApiProperty({ enum: EVENT_TYPES, isArray: true, example: ['issue.issued'] }) events: EventType[];
  @ApiProperty({ format: 'date-time', example: '2026-12-01T09:30:00.000Z' }) createdAt: string;
}

/** The answer to POST /webhooks: the one time the signing secret is shown. */
export class CreatedWebhookView extends WebhookView {
  @ApiProperty({ example: 'whsec_9Xq…', description: 'signs every delivery (Coupon-Signature); shown this once' }) secret: string;
}

export class WebhookListResponse {
  @ApiProperty({ type: [WebhookView] }) items: WebhookView[];
}

export class DeliveryAttemptView {
  @ApiProperty({ example: 1207 }) eventId: number;
  @ApiProperty({ example: 1 }) attempt: number;
  @ApiProperty({ type: Number, nullable: true, example: 200, description: "the receiver's HTTP status; null when there was none" }) status: number | null;
  @ApiProperty({ type: String, nullable: true, example: null }) error: string | null;
  @ApiProperty({ format: 'date-time', example: '2026-12-01T09:30:00.000Z' }) at: string;
}

export class DeliveryPageResponse {
  @ApiProperty({ type: [DeliveryAttemptView] }) items: DeliveryAttemptView[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as ?cursor= for the next page; null on the last', example: '17' })
  nextCursor: string | null;
}
