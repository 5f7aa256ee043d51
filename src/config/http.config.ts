import { type Env, int } from './env-readers';
import { parseTrustProxy, type TrustProxy } from './trust-proxy';

/** How the API listens (PORT, API_PROCESSES, BODY_LIMIT_BYTES, TRUST_PROXY). */
export abstract class HttpConfig {
  port: number;
  /** API processes on the one port (API_PROCESSES; Node's cluster): one per core. */
  apiProcesses: number;
  bodyLimitBytes: number;
  /** Which proxies' X-Forwarded-For decides the client address (per-address limits count by it). */
  trustProxy: TrustProxy;
}

export function readHttpConfig(env: Env): HttpConfig {
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    apiProcesses: int(env, 'API_PROCESSES', 1, 1, 64),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 16 * 1024, 256, 10 * 1024 * 1024),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
  };
}
