#!/usr/bin/env bun
// pop serve benchmarks (issue 10), each a ratio against a baseline measured in the same run:
// 1. throughput of `pop serve` answering rpc.math.fib (examples/poppy) against a bare Bun.serve JSON echo, both in
//    their own process on this machine, driven by the same load generator (Bun fetch, keep-alive, 64 in flight,
//    a fixed time per round, rounds interleaved); target at least 0.8x.
// 2. a remote call (hub.rpc.math.fib through remoteSub) against curl asking the same pop serve: curl reusing one
//    connection for many requests (--next), and one curl process per request (what a shell script pays).
// Run: bun scripts/bench/serve.ts   (POP_BIN points at the executable, default dist/pop; SECONDS per round, ROUNDS)
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { closeHub, createHub } from "../../src/hub/index.ts";
import { remoteSub } from "../../src/remote/index.ts";

const ROOT = resolve(import.meta.dir, "../..");
const POP = resolve(process.env.POP_BIN ?? join(ROOT, "dist/pop"));
if (!existsSync(POP)) throw new Error(`${POP} is missing: run \`bun run build\` first (or set POP_BIN)`);
const SECONDS = Number(process.env.SECONDS ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CONCURRENCY = 64;
const BODY = JSON.stringify({ ref: "math.fib", kwargs: { num: 11 } });

/** Start a server process; resolves to its URL (the first http:// on its stdout) and a stopper. */
async function start(cmd: string[]): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: "pipe", stderr: "inherit", env: { ...process.env, NO_COLOR: "1" } });
  const reader = proc.stdout.getReader();
  let seen = "";
  const deadline = Date.now() + 15_000;
  while (!/http:\/\/[^\s"()]+/.test(seen)) {
    if (Date.now() > deadline) throw new Error(`${cmd.join(" ")} printed no URL: ${seen}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited: ${seen}`);
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  void proc.stdout.pipeTo(new WritableStream()); // keep draining
  return {
    url: /http:\/\/[^\s"()]+/.exec(seen)![0],
    pid: proc.pid,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const fields = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ, 100 on Linux)
  } catch {
    return Number.NaN;
  }
}

/** Requests answered per second and the server's CPU microseconds per request: CONCURRENCY loops posting BODY for SECONDS, each answer read and checked. */
async function load(url: string, pid: number, check: (json: any) => boolean): Promise<{ rate: number; cpuUs: number }> {
  let done = 0;
  let bad = 0;
  const until = performance.now() + SECONDS * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const res = await fetch(url, { method: "POST", body: BODY, headers: { "content-type": "application/json" } });
      if (!check(await res.json())) bad++;
      done++;
    }
  };
  const t0 = performance.now();
  const c0 = cpuSeconds(pid);
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const secs = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - c0;
  if (bad > 0) throw new Error(`${bad} of ${done} answers from ${url} were wrong`);
  return { rate: done / secs, cpuUs: (cpu * 1e6) / done };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

console.log(`pop: ${POP}; Bun ${Bun.version}; ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONCURRENCY} requests in flight, keep-alive`);

// ---- 1. throughput ---------------------------------------------------------------------------------------------
const echoSource = `const s = Bun.serve({ hostname: "127.0.0.1", port: 0, async fetch(req) { const b = await req.json(); return Response.json({ ref: b.ref, result: b.kwargs }); } }); console.log("http://127.0.0.1:" + s.port);`;
const echo = await start([process.execPath, "-e", echoSource]);
const served = await start([POP, "serve", "--plugins", "examples/poppy", "--sub", "rpc", "--port", "0"]);
const popRates: number[] = [];
const echoRates: number[] = [];
const popCpu: number[] = [];
const echoCpu: number[] = [];
try {
  await load(served.url, served.pid, (j) => j.result === 89); // warm-up (JIT) for both
  await load(echo.url, echo.pid, (j) => j.ref === "math.fib");
  for (let r = 0; r < ROUNDS; r++) {
    const e = await load(echo.url, echo.pid, (j) => j.ref === "math.fib");
    const p = await load(served.url, served.pid, (j) => j.result === 89);
    echoRates.push(e.rate);
    echoCpu.push(e.cpuUs);
    popRates.push(p.rate);
    popCpu.push(p.cpuUs);
  }
} finally {
  await echo.stop();
}
const popRate = median(popRates);
const echoRate = median(echoRates);
// Each round's pair ran back to back: the median of the per-round ratios is steadier than the ratio of medians
// when other work on the machine comes and goes.
const ratio = median(popRates.map((p, i) => p / echoRates[i]!));
// The servers' own CPU per request moves far less with the machine's load than throughput does.
const cpuRatio = median(popCpu.map((p, i) => echoCpu[i]! / p));
console.log(`\n1. throughput (median of ${ROUNDS}):`);
console.log(`   bare Bun.serve JSON echo   ${fmt(echoRate)} req/s, ${fmt(median(echoCpu))} us CPU/request   (rounds: ${echoRates.map(fmt).join(", ")})`);
console.log(`   pop serve rpc.math.fib     ${fmt(popRate)} req/s, ${fmt(median(popCpu))} us CPU/request   (rounds: ${popRates.map(fmt).join(", ")})`);
console.log(
  `   ratio pop serve / echo     ${ratio.toFixed(2)}x   (median of the rounds' ratios: ${popRates.map((p, i) => (p / echoRates[i]!).toFixed(2)).join(", ")}; target >= 0.80x: ${ratio >= 0.8 ? "met" : "MISSED"})`,
);
console.log(
  `   requests per server CPU second, pop serve / echo: ${cpuRatio.toFixed(2)}x   (rounds: ${popCpu.map((p, i) => (echoCpu[i]! / p).toFixed(2)).join(", ")})`,
);

// ---- 2. a remote call against curl ------------------------------------------------------------------------------
const N = Number(process.env.CALLS ?? 500);
const hub = createHub();
await remoteSub(hub, "rpc", { url: served.url, source: "bench" });
for (let i = 0; i < 50; i++) await hub.rpc.math.fib({ num: 11 }); // warm-up
const curl = Bun.which("curl");
// One curl, N requests on one connection (--next), as the remote sub's fetch reuses one.
const curlArgs: string[] = [];
for (let i = 0; i < N; i++)
  curlArgs.push(...(i ? ["--next"] : []), "-s", "-o", "/dev/null", "-H", "content-type: application/json", "--data", BODY, served.url);
const remoteUs: number[] = [];
const kept: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) if ((await hub.rpc.math.fib({ num: 11 })) !== 89) throw new Error("wrong remote answer");
  remoteUs.push(((performance.now() - t0) * 1000) / N);
  if (!curl) continue;
  const t1 = performance.now();
  const p = Bun.spawnSync([curl, ...curlArgs]);
  if (p.exitCode !== 0) throw new Error(`curl failed: ${p.stderr}`);
  kept.push(((performance.now() - t1) * 1000) / N);
}
await closeHub(hub);
let curlProcUs = Number.NaN;
if (curl) {
  // One curl process per request: what `curl` in a shell loop costs.
  const M = 50;
  const t0 = performance.now();
  for (let i = 0; i < M; i++) {
    const p = Bun.spawnSync([curl, "-s", "-H", "content-type: application/json", "--data", BODY, served.url]);
    if (!p.stdout.toString().includes('"result":89')) throw new Error(`curl got ${p.stdout}`);
  }
  curlProcUs = ((performance.now() - t0) * 1000) / M;
}
await served.stop();
const remote = median(remoteUs);
const curlKeptUs = median(kept);
const keptRatio = median(remoteUs.map((r, i) => r / kept[i]!));
console.log(`\n2. one call, sequential (median of ${ROUNDS} x ${N}):`);
console.log(`   remote call hub.rpc.math.fib            ${fmt(remote)} us/call`);
if (curl) {
  console.log(
    `   curl, one connection for all (--next)   ${fmt(curlKeptUs)} us/request   ratio remote / curl ${keptRatio.toFixed(2)}x (median of the rounds' ratios: ${remoteUs.map((r, i) => (r / kept[i]!).toFixed(2)).join(", ")})`,
  );
  console.log(`   curl, one process per request           ${fmt(curlProcUs)} us/request   ratio remote / curl ${(remote / curlProcUs).toFixed(2)}x`);
} else console.log("   curl not installed: no comparison");
