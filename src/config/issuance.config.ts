import { bool, type Env, int, oneOf } from './env-readers';

export const ISSUANCE_STRATEGIES = ['pessimistic', 'redis', 'queue'] as const;
export type IssuanceStrategyName = (typeof ISSUANCE_STRATEGIES)[number];

/** Each shard is a queue every worker process polls with a blocking connection of its own. */
const MAX_QUEUE_SHARDS = 64;

/** How requests are decided and written (ISSUANCE_STRATEGY and what goes with it). */
export abstract class IssuanceConfig {
  strategy: IssuanceStrategyName;
  /** The queue's consumer in the API process too (RUN_WORKER). */
  runWorker: boolean;
  /** Jobs (each a batch of accepted requests) one worker process handles at once (queue strategy). */
  workerConcurrency: number;
  /**
   * How many BullMQ queues the issue jobs spread over (QUEUE_SHARDS); undefined: one on a single
   * Redis, one per master on a cluster (counted at start-up). Every process must see the same
   * number: set it explicitly where processes may start while the cluster is changing shape.
   */
  queueShards?: number;
  /**
   * How long a process may answer SOLD_OUT from its own flag without asking again (SOLD_OUT_FLAG_MS):
   * the hard bound on a stale flag when a change was not heard; 0 turns the flags off.
   */
  soldOutFlagMs: number;
}

export function readIssuanceConfig(env: Env): IssuanceConfig {
  return {
    strategy: oneOf(env, 'ISSUANCE_STRATEGY', ISSUANCE_STRATEGIES, 'pessimistic'),
    runWorker: bool(env, 'RUN_WORKER', true),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 50, 1, 10_000),
    queueShards: env.QUEUE_SHARDS?.trim() ? int(env, 'QUEUE_SHARDS', 1, 1, MAX_QUEUE_SHARDS) : undefined,
    soldOutFlagMs: int(env, 'SOLD_OUT_FLAG_MS', 100, 0, 10_000),
  };
}
