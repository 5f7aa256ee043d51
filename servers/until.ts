/** Waits until `probe` returns something other than undefined (checked every `everyMs`), or fails after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined>, { timeoutMs = 30_000, everyMs = 50, what = 'the condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
