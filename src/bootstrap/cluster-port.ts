/** Messages between an API process and the primary about the shared port (API_PROCESSES > 1). */
export const MAY_I_LISTEN = 'coupon:may-i-listen';
export const LISTEN = 'coupon:listen';

/**
 * In an API process of the cluster: the port is the primary's, which holds it until the first
 * process is ready (reserve-port.ts says why it is held); `release` asks, and resolves once told
 * to listen.
 */
export function portFromPrimary(): { release(): Promise<void> } {
  return {
    release: () =>
      new Promise<void>((resolve) => {
        const onMessage = (message: unknown) => {
          if (message !== LISTEN) return;
          process.off('message', onMessage);
          resolve();
        };
        process.on('message', onMessage);
        process.send!(MAY_I_LISTEN);
      }),
  };
}
