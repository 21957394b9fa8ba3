#!/usr/bin/env bun
// Deploy agent benchmarks (issue 8), against a real ZooKeeper started here (Debian's zookeeper package):
//   1. deploy-to-ready: from spawning `pop deploy` to the service's state node saying "ready", against a baseline
//      in the same run: spawning the same command plus one ZooKeeper write and watch round trip. 1b is the agent's
//      part alone; 1c is where the time goes, step by step, and the floor: what any `pop deploy` that is a process of
//      its own must spend (a compiled Bun program's start and exit, a ZooKeeper session, one write) on top of the
//      baseline's own work, measured in the same run, so the table shows how far the 3x target can be reached at all.
//   2. convergence of S services over A agents (each agent its own `pop fg` process, distinct machine ids, one host):
//      time to all ready, and ZooKeeper requests per single-service change (the server's packet count, idle
//      pings subtracted), which must not grow with S or A. SCALE=AxS (default 10x200; SCALE=50x1000 for the large one).
//   3. an idle agent's CPU over IDLE_S seconds (default 60) and its memory with 100 services.
// Run: bun run build && bun run bench:deploy
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { connectZk } from "../../src/deploy/_zk.ts";
import type { Zk } from "../../src/deploy/_types.ts";
import { fourLetter, startZk, waitFor } from "../../test/_zk.ts";
import { tmp } from "../../test/helpers.ts";
import { connectOnce } from "../../src/deploy/_zkwire.ts";
import { compile, freshCopy, median } from "./_util.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUILT = resolve(process.env.POP_BIN ?? join(ROOT, "dist/pop"));
const [A, S] = (process.env.SCALE ?? "10x200").split("x").map(Number) as [number, number];
const IDLE_S = Number(process.env.IDLE_S ?? 60);
const work = tmp("pop-bench-deploy-");
const POP = freshCopy(BUILT, work);
await using zk = await startZk();
const client: Zk = await connectZk({ hosts: zk.connectString, timeoutMs: 10_000 });
const agents: Array<ReturnType<typeof Bun.spawn>> = [];
console.log(`pop: ${BUILT}; Bun ${Bun.version}; ZooKeeper at ${zk.connectString}; scale ${A} agents x ${S} services`);

const flags = (root: string, id: string) => ["--zk", zk.connectString, "--root", root, "--machine-id", id, "--state-dir", join(work, root.slice(1), id)];
async function pop(args: string[]): Promise<void> {
  const p = Bun.spawn([POP, ...args], { cwd: work, stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`pop ${args.join(" ")} failed: ${await new Response(p.stderr).text()}`);
}
async function agent(root: string, id: string): Promise<ReturnType<typeof Bun.spawn>> {
  const p = Bun.spawn([POP, "fg", ...flags(root, id)], { cwd: work, stdout: "ignore", stderr: "ignore", env: { ...process.env, POP_LOG_LEVEL: "warn" } });
  agents.push(p);
  await waitFor(`agent ${id}`, async () => ((await client.exists(`${root}/agents/${id}`)) ? true : undefined), 30_000);
  return p;
}
/** Resolves when /root/services/svc/state/id says ready (a watch, re-armed until then). */
function readyNode(root: string, svc: string, id: string): Promise<void> {
  const path = `${root}/services/${svc}/state/${id}`;
  return new Promise((res, rej) => {
    const check = async () => {
      try {
        const n = await client.get(path, () => void check());
        if (n && (JSON.parse(n.data) as { state?: string }).state === "ready") res();
        else if (!n) await client.exists(path, () => void check());
      } catch (e) {
        rej(e);
      }
    };
    void check();
  });
}
async function packets(): Promise<number> {
  return Number(/^zk_packets_received\s+(\d+)/m.exec(await fourLetter(zk.ports[0]!, "mntr", 2000))?.[1] ?? NaN);
}
/** Write a service the way `pop add` + `pop deploy` do, in one transaction (fast enough for thousands). */
async function addService(root: string, svc: string, machines: string[], command = "sleep 600"): Promise<void> {
  await client.transaction([
    { op: "create", path: `${root}/services/${svc}` },
    { op: "create", path: `${root}/services/${svc}/type`, data: "process" },
    { op: "create", path: `${root}/services/${svc}/settings`, data: JSON.stringify({ command, env: {}, maxParallel: 1 }) },
    { op: "create", path: `${root}/services/${svc}/machines`, data: JSON.stringify(machines) },
    { op: "create", path: `${root}/services/${svc}/state` },
  ]);
}
const rss = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks
};

try {
  // ---- 1. deploy-to-ready ---------------------------------------------------------------------------------------
  {
    const root = "/b1";
    await pop(["init", ...flags(root, "m0")]);
    await agent(root, "m0");
    const deploy: number[] = [];
    const deployExit: number[] = [];
    const agentPart: number[] = [];
    const base: number[] = [];
    const hello: number[] = [];
    const version: number[] = [];
    const session: number[] = [];
    const write: number[] = [];
    const ghost: number[] = [];
    const rtt: number[] = [];
    // The floor's parts: the smallest compiled program (built like pop), pop's own start and exit, a session opened
    // and closed by pop's one-shot client, and one write from a connected client.
    const HELLO = freshCopy(compile(work, "hello", 'console.log("hi");\n'), work);
    const spawnExit = async (cmd: string[]) => {
      const t0 = performance.now();
      const p = Bun.spawn(cmd, { stdout: "ignore", stderr: "ignore" });
      if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")} failed`);
      return performance.now() - t0;
    };
    for (let i = 0; i < 15; i++) {
      await pop(["add", "process", "--name", `s${i}`, "--set", "command=sleep 600", ...flags(root, "m0")]);
      const t0 = performance.now();
      const ready = readyNode(root, `s${i}`, "m0");
      await pop(["deploy", `s${i}`, ...flags(root, "m0")]);
      deployExit.push(performance.now() - t0);
      await ready;
      deploy.push(performance.now() - t0);
      // The agent's part alone: the target list written by a client (what pop deploy's last step does) -> ready.
      await pop(["add", "process", "--name", `q${i}`, "--set", "command=sleep 600", ...flags(root, "m0")]);
      const a0 = performance.now();
      const qReady = readyNode(root, `q${i}`, "m0");
      await client.set(`${root}/services/q${i}/machines`, JSON.stringify(["m0"]));
      await qReady;
      agentPart.push(performance.now() - a0);
      // Baseline: the same command spawned, plus one write and the watch that sees it.
      await client.mkdirp(`${root}/base`);
      const b0 = performance.now();
      const seen = new Promise<void>((r) => void client.exists(`${root}/base/n${i}`, () => r()));
      const p = Bun.spawn(["sleep", "600"], { stdout: "ignore", stderr: "ignore" });
      await client.create(`${root}/base/n${i}`, String(p.pid));
      await seen;
      base.push(performance.now() - b0);
      p.kill();
      // The baseline as the issue words it: spawning the same command (pop deploy, the same reads and
      // compare-and-set, to a machine no agent runs, so nothing follows it) plus one write and the watch that sees it.
      await pop(["add", "process", "--name", `g${i}`, "--set", "command=sleep 600", ...flags(root, "m0")]);
      ghost.push(await spawnExit([POP, "deploy", `g${i}`, "ghost", ...flags(root, "m0")]));
      const r0 = performance.now();
      const rseen = new Promise<void>((r) => void client.exists(`${root}/base/r${i}`, () => r()));
      await client.create(`${root}/base/r${i}`, "w");
      await rseen;
      rtt.push(performance.now() - r0);
      hello.push(await spawnExit([HELLO]));
      version.push(await spawnExit([POP, "--version"]));
      const s0 = performance.now();
      const once = await connectOnce({ hosts: zk.connectString, timeoutMs: 10_000 });
      session.push(performance.now() - s0);
      await once.close();
      const w0 = performance.now();
      await client.set(`${root}/base/n${i}`, "w");
      write.push(performance.now() - w0);
    }
    const d = median(deploy);
    const b = median(base);
    const r = d / b;
    const bw = median(ghost) + median(rtt);
    const rw = d / bw;
    console.log(
      `${rw <= 3 ? "ok  " : "MISS"} 1. deploy-to-ready (pop deploy spawned -> state node ready) vs spawning the same command (pop deploy, to a machine with no agent) + one ZooKeeper write and watch round trip: ${d.toFixed(1)} ms vs ${median(ghost).toFixed(1)} + ${median(rtt).toFixed(1)} ms = ${rw.toFixed(2)}x, target <= 3x`,
    );
    console.log(
      `${r <= 3 ? "ok  " : "MISS"} 1s. the same, read strictly (the service's own command spawned + one write and watch, no pop deploy in the baseline): ${d.toFixed(1)} ms vs ${b.toFixed(1)} ms = ${r.toFixed(2)}x, target <= 3x; its floor is in 1c`,
    );
    const ap = median(agentPart);
    console.log(
      `     1b. the agent's part alone (target list written by a client -> state node ready): ${ap.toFixed(1)} ms = ${(ap / b).toFixed(2)}x the baseline; the rest of 1 is the pop deploy process (start-up, config, connect, compare-and-set)`,
    );
    const [h, v, se, w, de] = [hello, version, session, write, deployExit].map(median) as [number, number, number, number, number];
    const floor = h + se + w + b;
    const row = (what: string, ms: number) => console.log(`         ${ms.toFixed(1).padStart(6)} ms ${(ms / b).toFixed(2).padStart(6)}x  ${what}`);
    console.log("     1c. where it goes (medians of the same run; x = times the baseline):");
    row("one write from a connected client + the watch that sees it", median(rtt));
    row("pop deploy to a machine with no agent, spawn to exit (1's baseline, with the line above)", median(ghost));
    row("1s's baseline: spawn `sleep` + one create from a connected client + the watch that sees it", b);
    row("a compiled hello world (built like pop), spawn to exit", h);
    row("pop --version, spawn to exit", v);
    row("a ZooKeeper session opened (pop's one-shot client, in this process; closing overlaps the agent's work)", se);
    row("one write from a connected client", w);
    row("pop deploy, spawn to exit", de);
    row("the agent's part (1b)", ap);
    row("deploy-to-ready (1)", d);
    row("floor: hello world + session opened + one write + the baseline (no pop deploy of its own process can take less)", floor);
    console.log(
      `         the floor alone is ${(floor / b).toFixed(2)}x 1s's baseline: 1s's 3x ${floor / b > 3 ? "cannot be reached by a pop deploy that is a process of its own" : "is within reach"}; figure 1 is ${(d / floor).toFixed(2)}x the floor`,
    );
  }

  // ---- 2. convergence of S services over A agents ---------------------------------------------------------------
  {
    const root = "/b2";
    await pop(["init", ...flags(root, "x")]);
    const ids = Array.from({ length: A }, (_, i) => `a${i}`);
    for (const id of ids) await agent(root, id);
    const t0 = performance.now();
    const readies: Array<Promise<void>> = [];
    for (let s = 0; s < S; s++) {
      const id = ids[s % A]!;
      readies.push(readyNode(root, `svc${s}`, id));
      await addService(root, `svc${s}`, [id]);
    }
    await Promise.all(readies);
    const all = performance.now() - t0;
    console.log(`     2. convergence: ${S} services over ${A} agents, all ready in ${(all / 1000).toFixed(1)} s (${(all / S).toFixed(1)} ms a service)`);
    // Requests per single-service change: the server's packets over a change, minus those of an idle window as long.
    const idle0 = await packets();
    const w0 = performance.now();
    await Bun.sleep(2000);
    const idleRate = ((await packets()) - idle0) / (performance.now() - w0);
    const perChange: number[] = [];
    for (let k = 0; k < 5; k++) {
      const svc = `svc${k}`;
      const id = ids[k % A]!;
      const p0 = await packets();
      const c0 = performance.now();
      const settings = `${root}/services/${svc}/settings`;
      const cur = JSON.parse((await client.get(settings))!.data) as Record<string, unknown>;
      // Wait for the restart: ready again, with another pid.
      const statePath = `${root}/services/${svc}/state/${id}`;
      const oldPid = (JSON.parse((await client.get(statePath))!.data) as { pid?: number }).pid;
      const restarted = new Promise<void>((res) => {
        const check = async () => {
          const n = await client.get(statePath, () => void check().catch(() => {})); // a watch may fire after close
          const st = n ? (JSON.parse(n.data) as { state?: string; pid?: number }) : undefined;
          if (st?.state === "ready" && st.pid !== oldPid) res();
        };
        void check();
      });
      await client.set(settings, JSON.stringify({ ...cur, command: `sleep ${601 + k}` }));
      await restarted;
      const n = (await packets()) - p0 - idleRate * (performance.now() - c0);
      perChange.push(n);
    }
    console.log(
      `     2. ZooKeeper requests per single-service change (server packets, idle pings subtracted): median ${median(perChange).toFixed(0)} (runs: ${perChange.map((x) => x.toFixed(0)).join(", ")}); must not grow with S or A`,
    );
  }

  // ---- 3. idle CPU and memory -------------------------------------------------------------------------------------
  {
    const root = "/b3";
    await pop(["init", ...flags(root, "x")]);
    const a = await agent(root, "idle");
    const readies: Array<Promise<void>> = [];
    for (let s = 0; s < 100; s++) {
      readies.push(readyNode(root, `svc${s}`, "idle"));
      await addService(root, `svc${s}`, ["idle"]);
    }
    await Promise.all(readies);
    const mem = rss(a.pid);
    const c0 = cpuTicks(a.pid);
    const t0 = performance.now();
    await Bun.sleep(IDLE_S * 1000);
    const ticks = cpuTicks(a.pid) - c0;
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `     3. idle agent with 100 services: ${ticks} clock ticks of CPU in ${secs.toFixed(0)} s (${((ticks / 100 / secs) * 100).toFixed(3)} % of a core); memory ${mem.toFixed(0)} MiB RSS`,
    );
  }
} finally {
  for (const a of agents) a.kill("SIGTERM");
  await Promise.all(agents.map((a) => a.exited));
  await client.close();
}
