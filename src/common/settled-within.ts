/**
 * Waits for `work` for `ms` at most: 'done' once it has finished, 'late' if it has not by then
 * (it goes on; only the wait ends), and its rejection if it fails in time. A stop bounded this way
 * does not hang on a dependency that is gone (Redis, a statement waiting on a lock).
 */
export async function settledWithin(work: Promise<unknown> | undefined, ms: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    return await Promise.race([Promise.resolve(work).then(() => 'done' as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
