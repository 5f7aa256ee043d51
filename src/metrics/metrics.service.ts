import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The service's Prometheus registry and the instruments modules record into. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly issueOutcomes = new Counter({
    name: 'coupon_issue_requests_total',
    help: 'Issue requests by strategy and outcome (ISSUED, PENDING or the error code)',
    labelNames: ['strategy', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly issueDuration = new Histogram({
    name: 'coupon_issue_duration_seconds',
    help: 'Time to answer an issue request, by strategy',
    labelNames: ['strategy'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** By key id (never its secret) and the scope used. */
  readonly apiKeyRequests = new Counter({
    name: 'coupon_api_key_requests_total',
    help: 'Requests admitted with a service key, by key id and scope',
    labelNames: ['key', 'scope'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
