import { Logger } from '@nestjs/common';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../redis/redis.module';
import { couponOfMessage, StockListener, STOCK_CHANNEL, StockSignal } from './stock-signal';

/**
 * Subscribes to the scripts' announcements on a connection of its own (a subscribed connection
 * can do nothing else). On a cluster, PUBLISH reaches every node, so one subscription hears all
 * masters. Live from the subscription until the connection drops; on every re-subscription the
 * listener is reset, since what was published meanwhile is lost.
 */
export class RedisStockSignal extends StockSignal {
  private readonly logger = new Logger(RedisStockSignal.name);
  private subscriber?: RedisClient;
  private subscribed = false;

  constructor(private readonly redis: RedisClient) {
    super();
  }

  get live(): boolean {
    return this.subscribed;
  }

  async listen(listener: StockListener): Promise<void> {
    // its own connection, which waits for Redis rather than failing fast (the service's client
    // connects lazily and keeps no offline queue): a subscription has no request to fail
    const subscriber =
      this.redis instanceof Cluster
        ? this.redis.duplicate([], { lazyConnect: false, enableOfflineQueue: true })
        : this.redis.duplicate({ lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('error', (error: Error) => this.logger.debug(`stock subscription: ${error.message}`));
    subscriber.on('message', (_channel: string, message: string) => {
      const couponId = couponOfMessage(message);
      if (couponId !== undefined) listener.changed(couponId);
    });
    const drop = () => {
      this.subscribed = false;
      listener.reset();
    };
    subscriber.on('close', drop);
    subscriber.on('end', drop);
    // ioredis subscribes again by itself after a reconnect; 'ready' follows it
    subscriber.on('ready', () => {
      listener.reset();
      this.subscribed = true;
    });
    try {
      await subscriber.subscribe(STOCK_CHANNEL);
      this.subscribed = true;
    } catch (error) {
      this.logger.warn(`cannot subscribe to ${STOCK_CHANNEL} (sold-out flags stay off until it can): ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.subscribed = false;
    this.subscriber?.disconnect();
  }
}
