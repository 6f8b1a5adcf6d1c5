// Request counters in the Prometheus text format (version 0.0.4). Routes are counted by
// their pattern, never by the raw path, so the number of series stays bounded.

export const UNMATCHED = 'unmatched';

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class RequestMetrics {
  readonly #counts = new Map<string, number>();
  readonly #seconds = new Map<string, number>();

  record(method: string, route: string, status: number, ms: number): void {
    const key = `method="${label(method)}",route="${label(route)}",status="${status}"`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#seconds.set(key, (this.#seconds.get(key) ?? 0) + ms / 1000);
  }

  text(): string {
    const lines = [
      '# HELP offsite_http_requests_total HTTP requests answered, by method, route pattern and status.',
      '# TYPE offsite_http_requests_total counter',
      ...[...this.#counts].map(([key, n]) => `offsite_http_requests_total{${key}} ${n}`),
      '# HELP offsite_http_request_seconds_total Time spent answering HTTP requests.',
      '# TYPE offsite_http_request_seconds_total counter',
      ...[...this.#seconds].map(([key, s]) => `offsite_http_request_seconds_total{${key}} ${s.toFixed(6)}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}

export function gauge(name: string, help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`;
}
