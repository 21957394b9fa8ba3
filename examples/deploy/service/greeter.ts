// A service type of your own (docs/deploy.md): a tiny HTTP service run by this executable acting as Bun.
//   pop add greeter --plugins examples/deploy --port 8090 --set greeting=hi --set token=s3cret
// The agent needs the same plugin root: pop fg --plugins examples/deploy
import { type Hub, type ServiceContext, tcpReady, z } from "pop";

export const settings = z.strictObject({
  port: z.coerce.number().int().min(1).max(65535),
  greeting: z.string().default("hello"),
  token: z.string().optional(),
  maxParallel: z.number().int().min(1).default(1),
});

/** Masked by pop status. */
export const secret = ["token"];
export const stopSignal = "SIGTERM";
export const stopTimeout = 5_000;

/** How to start it: this executable as Bun (BUN_BE_BUN=1) evaluating a one-line server. */
export function command(_hub: Hub, svc: ServiceContext) {
  const s = settings.parse(svc.settings);
  const server = `Bun.serve({ port: ${s.port}, fetch: () => new Response(${JSON.stringify(`${s.greeting} from ${svc.machineId}\n`)}) })`;
  return { argv: [process.execPath, "-e", server], env: { BUN_BE_BUN: "1" } };
}

/** Ready when its port accepts connections. */
export function ready(_hub: Hub, svc: ServiceContext) {
  return tcpReady(settings.parse(svc.settings).port);
}

/** Task: pop run SERVICE greet [NAME] asks the service on every machine. */
export async function greet(_hub: Hub, svc: ServiceContext, name = "you") {
  const text = await (await fetch(`http://127.0.0.1:${settings.parse(svc.settings).port}/`)).text();
  return `${text.trim()}, ${name}`;
}
