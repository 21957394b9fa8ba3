// Service type `static`: serve a directory over HTTP, by pop itself acting as Bun (BUN_BE_BUN=1) running a small
// server script written into the instance dir at start.
//   pop add static --name site --set root=/srv/site --port 8080
import { mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { type Hub, httpReady, type LaunchSpec, type ServiceContext, z } from "pop";
import { bunOf, common, portSetting } from "./_common.ts";

/** root (the directory served; relative: to the instance dir), port, host (default 0.0.0.0: every interface). */
export const settings = z.strictObject({
  root: z.string().min(1),
  port: portSetting,
  host: z.string().min(1).default("0.0.0.0"),
  ...common,
});

type Settings = z.output<typeof settings>;

export const stopSignal = "SIGTERM";
export const stopTimeout = 5_000;
export const readyTimeout = 15_000;

/** The server, as plain JavaScript for Bun: GET and HEAD of files under the root (a folder: its index.html), 404 for anything outside it. */
const SERVER = `// Written by pop's static service type; rewritten at each start.
import { statSync } from "node:fs";
import { join, resolve, sep } from "node:path";
const root = resolve(process.env.POP_STATIC_ROOT);
const server = Bun.serve({
  hostname: process.env.POP_STATIC_HOST || "0.0.0.0",
  port: Number(process.env.PORT),
  async fetch(req) {
    if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\\n", { status: 405, headers: { allow: "GET, HEAD" } });
    let path;
    try {
      path = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return new Response("bad request\\n", { status: 400 });
    }
    let file = resolve(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return new Response("not found\\n", { status: 404 });
    try {
      if (statSync(file).isDirectory()) file = join(file, "index.html");
    } catch {}
    const f = Bun.file(file);
    if (!(await f.exists())) return new Response("not found\\n", { status: 404 });
    return new Response(req.method === "HEAD" ? null : f, { headers: { "content-type": f.type, "content-length": String(f.size) } });
  },
});
console.log("static: serving " + root + " on http://" + server.hostname + ":" + server.port);
`;

/** How to start it: this executable as Bun, running the server script (written into the instance dir now). */
export function command(_hub: Hub, svc: ServiceContext): LaunchSpec {
  const s = svc.settings as Settings;
  mkdirSync(svc.dir, { recursive: true });
  const script = join(svc.dir, "static-server.js");
  writeFileSync(script, SERVER);
  const root = isAbsolute(s.root) ? s.root : join(svc.dir, s.root);
  return { argv: [bunOf(svc), script], env: { BUN_BE_BUN: "1", PORT: String(s.port), POP_STATIC_ROOT: root, POP_STATIC_HOST: s.host }, cwd: svc.dir };
}

/** Ready when the server answers HTTP below 500 on its port. */
export async function ready(_hub: Hub, svc: ServiceContext & { pid: number }): Promise<boolean | string> {
  const s = svc.settings as Settings;
  const host = s.host === "0.0.0.0" || s.host === "::" ? "127.0.0.1" : s.host;
  return await httpReady(`http://${host.includes(":") ? `[${host}]` : host}:${s.port}/`);
}

/** Task: the URL it serves on this machine. */
export function url(_hub: Hub, svc: ServiceContext): string {
  const s = svc.settings as Settings;
  return `http://${s.host === "0.0.0.0" ? "127.0.0.1" : s.host}:${s.port}/`;
}
