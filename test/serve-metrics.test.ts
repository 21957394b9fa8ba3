// GET /metrics: calls, errors and latency per ref counted, in a text Prometheus's own parser accepts (promtool
// check metrics, when installed: Debian's prometheus package) and a strict checker of the format passes.
import { describe, expect, test } from "bun:test";
import { Metrics } from "../src/serve/index.ts";
import { CALC, post, serve } from "./fixtures/serve/_harness.ts";
import { checkExposition, type Sample } from "./fixtures/serve/_promcheck.ts";

const PROMTOOL = Bun.which("promtool");

async function promtool(text: string): Promise<{ code: number; out: string }> {
  const p = Bun.spawn([PROMTOOL!, "check", "metrics"], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out: out + err };
}

const value = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length,
  )?.value;

describe("pop serve: /metrics", () => {
  test("counts calls, errors by status and latency per ref, and requests by status", async () => {
    await using s = await serve(["--plugins", CALC, "--sub", "calc"]);
    for (let i = 0; i < 3; i++) expect((await post(s.url, { ref: "math.fib", kwargs: { num: i } })).status).toBe(200);
    expect((await post(s.url, { ref: "math.fail" })).status).toBe(500);
    expect((await post(s.url, { ref: "math.square", kwargs: { n: 0.5 } })).status).toBe(400);
    expect((await post(s.url, { ref: "math.nope" })).status).toBe(404);
    expect((await post(s.url, "{")).status).toBe(400);
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    const { problems, samples } = checkExposition(text);
    expect(problems).toEqual([]);
    expect(value(samples, "pop_serve_calls_total", { ref: "math.fib" })).toBe(3);
    expect(value(samples, "pop_serve_calls_total", { ref: "math.fail" })).toBe(1);
    expect(value(samples, "pop_serve_calls_total", { ref: "math.add" })).toBe(0); // listed before its first call
    expect(value(samples, "pop_serve_call_errors_total", { ref: "math.fail", status: "500" })).toBe(1);
    expect(value(samples, "pop_serve_call_errors_total", { ref: "math.square", status: "400" })).toBe(1);
    expect(value(samples, "pop_serve_call_errors_total", { ref: "math.fib", status: "500" })).toBeUndefined();
    expect(value(samples, "pop_serve_call_duration_seconds_count", { ref: "math.fib" })).toBe(3);
    expect(value(samples, "pop_serve_call_duration_seconds_bucket", { ref: "math.fib", le: "+Inf" })).toBe(3);
    expect(value(samples, "pop_serve_call_duration_seconds_sum", { ref: "math.fib" })).toBeGreaterThan(0);
    // A made-up ref is never a label value; the request is counted by status.
    expect(text).not.toContain("math.nope");
    expect(value(samples, "pop_serve_requests_total", { status: "200" })).toBe(3);
    expect(value(samples, "pop_serve_requests_total", { status: "400" })).toBe(2);
    expect(value(samples, "pop_serve_requests_total", { status: "404" })).toBe(1);
    expect(value(samples, "pop_serve_calls_in_flight", {})).toBe(0);
    if (PROMTOOL) expect(await promtool(text)).toEqual({ code: 0, out: "" });

    // A call in flight shows in the gauge, and is counted once it settles.
    const held = post(s.url, { ref: "math.hold" });
    await s.waitFor("stderr", /holding/);
    const during = checkExposition(await (await fetch(`${s.url}/metrics`)).text()).samples;
    expect(value(during, "pop_serve_calls_in_flight", {})).toBe(1);
    expect(value(during, "pop_serve_calls_total", { ref: "math.hold" })).toBe(0);
    s.proc.kill("SIGUSR2");
    expect((await held).status).toBe(200);
    const after = checkExposition(await (await fetch(`${s.url}/metrics`)).text()).samples;
    expect(value(after, "pop_serve_calls_in_flight", {})).toBe(0);
    expect(value(after, "pop_serve_calls_total", { ref: "math.hold" })).toBe(1);
  }, 30_000);

  test("label values with backslashes, quotes and line feeds are escaped", async () => {
    const m = new Metrics();
    m.call('we"ird\\ref\nx', 0.002, 500);
    const text = m.render();
    expect(text).toContain('pop_serve_calls_total{ref="we\\"ird\\\\ref\\nx"} 1');
    const { problems, samples } = checkExposition(text);
    expect(problems).toEqual([]);
    expect(samples.find((s) => s.name === "pop_serve_calls_total")!.labels.ref).toBe('we"ird\\ref\nx');
    if (PROMTOOL) expect((await promtool(text)).code).toBe(0);
  });

  test("the checker (and promtool) refuse broken expositions", async () => {
    const good = new Metrics();
    good.call("a.b", 0.01);
    const text = good.render();
    // Syntax errors: promtool's parser refuses them too.
    const syntax = [text.replace('{ref="a.b"} 1', '{ref="a"b"} 1'), text.replace("pop_serve_calls_in_flight 0", "pop_serve_calls_in_flight zero")];
    // Structure that promtool lets through but the format's rules forbid: the checker is the stricter of the two.
    const structure = [
      text.replace("# TYPE pop_serve_calls_total counter\n", ""),
      text.replace(/pop_serve_call_duration_seconds_bucket\{ref="a.b",le="\+Inf"\} 1\n/, ""),
      `${text}pop_serve_calls_total{ref="late"} 1\n`,
    ];
    for (const b of [...syntax, ...structure]) expect(checkExposition(b).problems.length).toBeGreaterThan(0);
    if (PROMTOOL) for (const b of syntax) expect((await promtool(b)).code).not.toBe(0);
  });
});
