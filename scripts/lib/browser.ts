// A minimal browser for the tests and the attack and bench scripts: fetch, a cookie jar, and
// no automatic redirects, so a caller can look at every hop the way the flow transcript does.
//
// Cookies on localhost ignore the port, so one jar serves the client and the AS, just like a
// real browser's. That is why each app needs its own cookie name.

export interface Page {
  url: string;
  status: number;
  headers: Headers;
  location: string | undefined;
  text: string;
}

/** Told of every answer and how long it took, e.g. by the benchmark. */
export type OnResponse = (method: string, url: string, ms: number) => void;

export class Browser {
  readonly cookies = new Map<string, string>();
  readonly #onResponse: OnResponse | undefined;

  constructor(onResponse?: OnResponse) {
    this.#onResponse = onResponse;
  }

  async get(url: string): Promise<Page> {
    return this.request(url, { method: 'GET' });
  }

  async post(url: string, form: Record<string, string>): Promise<Page> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** POST an already-encoded form body (for repeated fields such as scope=a&scope=b). */
  async postRaw(url: string, body: string): Promise<Page> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
  }

  /** Any request: a method, and a body of any content type or none at all, and any headers. */
  async send(
    url: string,
    {
      method,
      type,
      body,
      headers,
    }: { method: string; type?: string; body?: string; headers?: Record<string, string> },
  ) {
    return this.request(url, {
      method,
      headers: { ...headers, ...(type ? { 'content-type': type } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
  }

  /** Follow a redirect from `page`, resolving a relative Location against its URL. */
  async follow(page: Page): Promise<Page> {
    if (!page.location) throw new Error(`${page.url} answered ${page.status} without a Location`);
    return this.get(new URL(page.location, page.url).href);
  }

  private async request(url: string, init: RequestInit): Promise<Page> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const started = performance.now();
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    this.#onResponse?.(init.method ?? 'GET', url, performance.now() - started);
    return {
      url,
      status: response.status,
      headers: response.headers,
      location: response.headers.get('location') ?? undefined,
      text,
    };
  }
}
