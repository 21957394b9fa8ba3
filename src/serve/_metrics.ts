// The counters behind GET /metrics and their Prometheus text exposition (format 0.0.4): calls, errors and a
// latency histogram per ref, requests by status. Only refs the server serves become label values, so a client
// posting made-up refs cannot grow the output.

/** Upper bounds (seconds) of the latency histogram's buckets; +Inf is implied. */
export const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One ref's counters. */
interface RefStats {
  calls: number;
  /** Errors by HTTP status ("400", "500", "504"). */
  errors: Map<string, number>;
  /** Non-cumulative bucket counts; the last one is +Inf. */
  buckets: number[];
  sum: number;
}

/** The server's counters. */
export class Metrics {
  private readonly refs = new Map<string, RefStats>();
  private readonly statuses = new Map<string, number>();
  /** Calls running now. */
  inFlight = 0;

  /** Make sure `ref` is listed (at zero) before its first call. */
  declare(ref: string): void {
    if (!this.refs.has(ref)) this.refs.set(ref, { calls: 0, errors: new Map(), buckets: new Array(BUCKETS.length + 1).fill(0), sum: 0 });
  }

  /** Count one finished call of a served ref: its duration in seconds and, when it failed, the status answered. */
  call(ref: string, seconds: number, errorStatus?: number): void {
    let s = this.refs.get(ref);
    if (!s) {
      this.declare(ref);
      s = this.refs.get(ref)!;
    }
    s.calls++;
    s.sum += seconds;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    s.buckets[i]!++;
    if (errorStatus !== undefined) s.errors.set(String(errorStatus), (s.errors.get(String(errorStatus)) ?? 0) + 1);
  }

  /** Count one answered request by status. */
  request(status: number): void {
    const k = String(status);
    this.statuses.set(k, (this.statuses.get(k) ?? 0) + 1);
  }

  /** The Prometheus text exposition of every counter. */
  render(): string {
    const lines: string[] = [];
    const refs = [...this.refs.keys()].sort();
    head(lines, "pop_serve_calls_total", "counter", "Calls of a served function, by ref (relative to the served sub).");
    for (const r of refs) lines.push(`pop_serve_calls_total{ref="${label(r)}"} ${this.refs.get(r)!.calls}`);
    head(
      lines,
      "pop_serve_call_errors_total",
      "counter",
      "Calls that failed, by ref and the HTTP status answered (400 invalid arguments, 500 threw, 504 timed out).",
    );
    for (const r of refs) {
      const errors = this.refs.get(r)!.errors;
      for (const st of [...errors.keys()].sort()) lines.push(`pop_serve_call_errors_total{ref="${label(r)}",status="${st}"} ${errors.get(st)}`);
    }
    head(lines, "pop_serve_call_duration_seconds", "histogram", "Time a served function took to settle, by ref.");
    for (const r of refs) {
      const s = this.refs.get(r)!;
      const l = label(r);
      let cum = 0;
      for (let i = 0; i < BUCKETS.length; i++) {
        cum += s.buckets[i]!;
        lines.push(`pop_serve_call_duration_seconds_bucket{ref="${l}",le="${BUCKETS[i]}"} ${cum}`);
      }
      cum += s.buckets[BUCKETS.length]!;
      lines.push(`pop_serve_call_duration_seconds_bucket{ref="${l}",le="+Inf"} ${cum}`);
      lines.push(`pop_serve_call_duration_seconds_sum{ref="${l}"} ${num(s.sum)}`);
      lines.push(`pop_serve_call_duration_seconds_count{ref="${l}"} ${cum}`);
    }
    head(lines, "pop_serve_requests_total", "counter", "HTTP requests answered, by status.");
    for (const st of [...this.statuses.keys()].sort()) lines.push(`pop_serve_requests_total{status="${st}"} ${this.statuses.get(st)}`);
    head(lines, "pop_serve_calls_in_flight", "gauge", "Calls running now.");
    lines.push(`pop_serve_calls_in_flight ${this.inFlight}`);
    return `${lines.join("\n")}\n`;
  }
}

function head(lines: string[], name: string, type: string, help: string): void {
  lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
}

/** A label value escaped as the exposition format wants: backslash, double quote and line feed. */
export function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A sample value: Go's float text (no exponent surprises for small sums). */
function num(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN";
}
