// Template `service-type`: a deploy service type (docs/deploy.md): settings schema, command, readiness check, a task.
import type { CreateContext, Hub, TemplateOutput } from "pop";
import { shellWord, testHeader } from "./_common.ts";

export const description = "A deploy service type service/NAME.ts: settings schema, command, readiness check and a task, with its test";
export const target = "project";

/** service/NAME.ts (the folder DYNE gives `service`, if it does) and test/service-NAME.test.ts. */
export function render(_hub: Hub, ctx: CreateContext): TemplateOutput {
  const here = shellWord(ctx.where);
  const n = ctx.name;
  const dir = (ctx.dyne?.service?.[0] ?? "service").replace(/^\.\//, "").replace(/\/+$/, "");
  return {
    files: {
      [`${dir}/${n}.ts`]: `// Service type ${n} for pop's deploy agent (docs/deploy.md): a small HTTP server run by this executable as Bun.
//   pop add ${n} --plugins DIR --name hi --set port=8090 --set greeting=hi   (the agent needs the root too: pop fg --plugins DIR)
import { type Hub, type LaunchSpec, type ServiceContext, tcpReady, z } from "pop";

/** Its settings, checked before anything runs (\`pop add\` and \`pop set\` refuse a bad one, naming it). */
export const settings = z.strictObject({
  port: z.coerce.number().int().min(1).max(65535),
  greeting: z.string().min(1).default("hello"),
  maxParallel: z.coerce.number().int().min(1).default(1),
});

export const stopSignal = "SIGTERM";
export const stopTimeout = 5_000;
export const readyTimeout = 10_000;

/** How to start it: this executable acting as Bun (BUN_BE_BUN=1), serving the greeting. */
export function command(hub: Hub, svc: ServiceContext): LaunchSpec {
  const s = settings.parse(svc.settings);
  const server = \`Bun.serve({ port: \${s.port}, fetch: () => new Response(\${JSON.stringify(\`\${s.greeting} from \${svc.name}\\n\`)}) })\`;
  return { argv: [svc.bun ?? process.execPath, "-e", server], env: { BUN_BE_BUN: "1" } };
}

/** Ready when its port accepts connections: true, or why not yet. */
export async function ready(hub: Hub, svc: ServiceContext): Promise<boolean | string> {
  return await tcpReady(settings.parse(svc.settings).port);
}

/** Task: \`pop run SERVICE greet [NAME]\` asks the service, on every machine running it. */
export async function greet(hub: Hub, svc: ServiceContext, name = "you"): Promise<string> {
  const text = await (await fetch(\`http://127.0.0.1:\${settings.parse(svc.settings).port}/\`)).text();
  return \`\${text.trim()}, \${name}\`;
}
`,
      [`test/service-${n}.test.ts`]: `${testHeader('import { createServer } from "node:net";\n')}await hub.pop.sub.add({ dyneName: "service" });

/** A port nothing listens on: bound at 0 and read back, then freed for the service. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

const svc = (settings: Record<string, unknown>) => ({ name: "hi", type: "${n}", settings, machineId: "test", dir: import.meta.dir });

test("settings: a bad port is refused, defaults are filled in", () => {
  expect(hub.service.${n}.settings.safeParse({ port: "abc" }).success).toBe(false);
  expect(hub.service.${n}.settings.safeParse({ port: 8090, colour: "red" }).success).toBe(false);
  expect(hub.service.${n}.settings.parse({ port: "8090" })).toEqual({ port: 8090, greeting: "hello", maxParallel: 1 });
});

test("the service starts, becomes ready, and answers its task", async () => {
  const port = await freePort();
  const s = svc({ port, greeting: "hi" });
  expect(await hub.service.${n}.ready(s)).not.toBe(true);
  const { argv, env } = hub.service.${n}.command(s);
  const proc = Bun.spawn(argv, { env: { ...process.env, ...env }, stdout: "ignore", stderr: "inherit" });
  try {
    const deadline = Date.now() + 10_000;
    while ((await hub.service.${n}.ready(s)) !== true) {
      if (Date.now() > deadline) throw new Error("the service was not ready within 10 s");
      await Bun.sleep(20);
    }
    expect(await hub.service.${n}.greet(s, "pop")).toBe("hi from hi, pop");
  } finally {
    proc.kill();
    await proc.exited;
  }
}, 20_000);
`,
    },
    dyne: { service: [dir] },
    next: [`pop test ${here}`, `pop add ${n} --plugins ${here} --name ${n}1 --set port=8090`],
  };
}
