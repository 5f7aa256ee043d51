import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { couponOfMessage, StockListener, STOCK_CHANNEL_PG, StockSignal } from './stock-signal';

const RECONNECT_MS = 1000;

/**
 * LISTENs on a PostgreSQL connection of its own to the triggers' NOTIFY (migration
 * 1764400000000-stock-notify): a row leaving coupon_issues, or a coupon's total, status or window
 * changing. A notification is sent at commit, so when it arrives the unit is there to be taken.
 * Reconnects after a drop, resetting the listener (what was sent meanwhile is lost).
 */
export class PostgresStockSignal extends StockSignal {
  private readonly logger = new Logger(PostgresStockSignal.name);
  private client?: Client;
  private listening = false;
  private closed = false;

  /** `url` is read when connecting: the embedded server's is known only once it runs. */
  constructor(private readonly url: () => string) {
    super();
  }

  get live(): boolean {
    return this.listening;
  }

  async listen(listener: StockListener): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.url(), application_name: 'coupon-stock-listener' });
    this.client = client;
    let retried = false;
    const retry = () => {
      if (retried) return; // 'error' and 'end' both come for one drop
      retried = true;
      if (this.listening) listener.reset();
      this.listening = false;
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      if (!this.closed) setTimeout(() => void this.listen(listener), RECONNECT_MS).unref();
    };
    client.on('error', (error) => {
      this.logger.debug(`stock listener: ${error.message}`);
      retry();
    });
    client.on('end', retry);
    client.on('notification', (message) => {
      const couponId = couponOfMessage(message.payload ?? '');
      if (couponId !== undefined) listener.changed(couponId);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${STOCK_CHANNEL_PG}`);
      listener.reset(); // anything concluded before now was concluded unheard
      this.listening = true;
    } catch (error) {
      this.logger.warn(`cannot LISTEN ${STOCK_CHANNEL_PG} (sold-out flags stay off until it can): ${(error as Error).message}`);
      retry();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listening = false;
    await this.client?.end().catch(() => undefined);
  }
}
