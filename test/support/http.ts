export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
  ms: number;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (for malformed JSON and content-type tests). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** A real HTTP client (fetch over TCP) bound to one base URL. */
export function httpClient(baseUrl: string) {
  return async function request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const started = performance.now();
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (e.g. /metrics): keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers, ms: performance.now() - started };
  };
}

export type HttpRequest = ReturnType<typeof httpClient>;

/** Waits until /health/ready answers 200 (the database, and what the strategy needs, are back). */
export async function untilReady(http: HttpRequest, withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (
    (await http('GET', '/health/ready').then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    if (Date.now() > deadline) throw new Error(`not ready within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
