import type { Env } from './env-readers';

/** Where weak settings are tolerated; anywhere else (NODE_ENV unset included) they stop start-up. */
const LENIENT_ENVS = ['development', 'test'];

/** What kind of deployment the environment says this is, for the slices that are stricter in production. */
export interface Deployment {
  nodeEnv: string;
  /**
   * Every check a deployment needs holds unless the environment says it is a developer's or a
   * test's: a host where NODE_ENV was simply never set (`npm run start:prod`) is production.
   */
  strict: boolean;
  /** How an error message says when the check applies. */
  why: string;
}

export function deploymentOf(env: Env): Deployment {
  const nodeEnv = env.NODE_ENV?.trim() || '';
  return { nodeEnv: nodeEnv || 'production', strict: !LENIENT_ENVS.includes(nodeEnv), why: `unless NODE_ENV is ${LENIENT_ENVS.join(' or ')}` };
}
