import { ApiProperty } from '@nestjs/swagger';

export const EVENT_TYPES = ['issue.issued', 'issue.redeemed', 'issue.given_back', 'issue.revoked'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One change of an issue, as the feed and the webhooks carry it. */
export class EventView {
  @ApiProperty({ example: 1207, description: "the event's place in the feed: increasing, each event once" }) id: number;
  @ApiProperty({ enum: EVENT_TYPES, example: 'issue.issued' }) type: EventType;
  @ApiProperty({ format: 'date-time', example: '2026-12-01T09:30:00.000Z' }) occurredAt: string;
  @ApiProperty({ example: 42 }) couponId: number;
  @ApiProperty({ example: 7 }) userId: number;
  @ApiProperty({ example: 9001 }) issueId: number;
  @ApiProperty({ example: 'K7Q2-M9XD-4HFA' }) code: string;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'issue.redeemed: the order it was redeemed for' }) orderRef: string | null;
}

export class EventPageResponse {
  @ApiProperty({ type: [EventView] }) items: EventView[];
  @ApiProperty({ example: 1207, description: 'pass as ?after= for the next events (the same value when there were none)' }) nextAfter: number;
}

export interface EventRow {
  position: number;
  type: EventType;
  occurred_at: Date;
  coupon_id: number;
  user_id: number;
  issue_id: number;
  code: string;
  order_ref: string | null;
}

export const toEventView = (r: EventRow): EventView => ({
  id: Number(r.position),
  type: r.type,
  occurredAt: r.occurred_at.toISOString(),
  couponId: r.coupon_id,
  userId: r.user_id,
  issueId: Number(r.issue_id),
  code: r.code,
  orderRef: r.order_ref,
});
