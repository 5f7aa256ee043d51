import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  eventId: string;
  signature: string;
  body: string;
  answered: number | 'hung';
}

/**
 * A shop's webhook endpoint: records every request, and answers each as `plan` says for the n-th
 * (a status, or 'hang' to never answer within the service's 5 s), 200 once the plan runs out.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private server?: Server;

  constructor(private readonly plan: (number | 'hang')[] = []) {}

  async start(): Promise<string> {
    this.server = createServer(async (request, response) => {
      const body = await readBody(request);
      const step = this.plan[this.received.length] ?? 200;
      this.received.push({
        eventId: String(request.headers['coupon-event-id']),
        signature: String(request.headers['coupon-signature']),
        body,
        answered: step === 'hang' ? 'hung' : step,
      });
      if (step === 'hang') return; // left open: the service gives up after 5 s
      response.statusCode = step;
      response.end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /**
   * Event ids acknowledged with a 2xx; only those of `couponId` when given (an endpoint also gets
   * the events of other tests' coupons that were placed in the feed after it was registered).
   */
  delivered(couponId?: number): Set<string> {
    const acknowledged = this.received.filter((r) => typeof r.answered === 'number' && r.answered < 300);
    const wanted = couponId === undefined ? acknowledged : acknowledged.filter((r) => (JSON.parse(r.body) as { couponId: number }).couponId === couponId);
    return new Set(wanted.map((r) => r.eventId));
  }
}

/** Whether `Coupon-Signature` is HMAC-SHA256(secret, `t.body`), as a receiver checks it. */
export function signatureHolds(secret: string, received: Received): boolean {
  const parts = Object.fromEntries(received.signature.split(',').map((p) => p.split('=') as [string, string]));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${received.body}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });
}
