// The built-in service types (plugins/service/*.ts), bundled into the executable the way src/hub/_builtins.ts bundles
// plugins/pop, so the deploy tool can put a `service` sub on its hub (addBuiltinSub: a user's plugin root may add
// types or override these); and what the deploy tool does with any type: validate settings (one line naming the
// setting, what it expects and what it got, exit 2), list its tasks, and turn it into what the supervisor runs.
import type { Builtin } from "../hub/_builtins.ts";
import type { Hub } from "../hub/_types.ts";
import { sourceOf } from "../hub/_source.ts" with { type: "macro" };
import { ConfigError, quote } from "../errors.ts";
import * as bun from "../../plugins/service/bun.ts";
import * as processType from "../../plugins/service/process.ts";
import * as staticType from "../../plugins/service/static.ts";
import type { ProcessSpec, ServiceContext, ServiceTypeModule } from "./_types.ts";

/** The built-in `service` sub: plugins/service, bundled. Keep in step with that folder (a test checks). */
export const BUILTIN_SERVICE: Record<string, Builtin> = {
  bun: { file: "plugins/service/bun.ts", exports: bun, source: sourceOf("plugins/service/bun.ts") },
  process: { file: "plugins/service/process.ts", exports: processType, source: sourceOf("plugins/service/process.ts") },
  static: { file: "plugins/service/static.ts", exports: staticType, source: sourceOf("plugins/service/static.ts") },
};

/** What every service type module exports that is not a task. */
const NOT_TASKS = new Set(["settings", "secret", "command", "ready", "stopSignal", "stopTimeout", "readyTimeout"]);

/** A settings problem: exit 2, nothing written. `setting` names it, `type` the service type. */
export class SettingsError extends ConfigError {
  override name = "SettingsError";
  readonly setting: string;
  readonly type: string;
  constructor(message: string, type: string, setting: string) {
    super(message);
    this.type = type;
    this.setting = setting;
  }
}

/** Is `mod` shaped like a service type (a settings schema and a command)? Else why not. */
export function checkServiceType(typeName: string, mod: Record<string, unknown>): true | string {
  const settings = mod.settings as { safeParse?: unknown } | undefined;
  if (!settings || typeof settings.safeParse !== "function")
    return `service type ${quote(typeName)} exports no settings schema (export const settings = z.object({...}))`;
  if (typeof mod.command !== "function") return `service type ${quote(typeName)} exports no command(hub, svc) function`;
  return true;
}

/**
 * Parse `raw` settings with the type's schema: the parsed settings, or a SettingsError (exit 2) naming the setting:
 * `setting "port" of type "process": expected number, got "abc"`.
 */
export function validateSettings(typeName: string, module: Pick<ServiceTypeModule, "settings">, raw: Record<string, unknown>): Record<string, unknown> {
  const r = module.settings.safeParse(raw);
  if (r.success) return (r.data ?? {}) as Record<string, unknown>;
  const issues = r.error?.issues ?? [];
  const first = issues[0] as (Issue & { code?: string }) | undefined;
  if (!first) throw new SettingsError(`settings of type ${quote(typeName)} are not valid`, typeName, "");
  const lines = issues.map((i) => describe(typeName, i as Issue, raw));
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more: ${lines.slice(1).join("; ")})` : "";
  const setting = first.code === "unrecognized_keys" ? String(first.keys?.[0] ?? "") : first.path.map(String).join(".");
  throw new SettingsError(lines[0]! + more, typeName, setting);
}

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  expected?: string;
  keys?: string[];
}

function describe(typeName: string, issue: Issue, raw: Record<string, unknown>): string {
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys ?? [];
    return keys.map((k) => `setting ${quote(k)} of type ${quote(typeName)}: unknown setting`).join("; ");
  }
  const name = issue.path.map(String).join(".");
  let got: unknown = raw;
  for (const p of issue.path) got = got !== null && typeof got === "object" ? (got as Record<PropertyKey, unknown>)[p] : undefined;
  const expects = issue.code === "invalid_type" && issue.expected ? `expected ${issue.expected}` : lowerFirst(issue.message.replace(/^Invalid input: /, ""));
  if (got === undefined) return `setting ${quote(name)} of type ${quote(typeName)} is required: ${expects}`;
  return `setting ${quote(name)} of type ${quote(typeName)}: ${expects}, got ${shown(got)}`;
}

function shown(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return quote(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** A type's tasks: its exported functions other than the type's own parts (command, ready) and hooks (`_`-names). */
export function taskNames(module: Record<string, unknown>): string[] {
  return Object.keys(module)
    .filter((k) => typeof module[k] === "function" && !NOT_TASKS.has(k) && !k.startsWith("_"))
    .sort();
}

/** Setting names masked in status: the type's `secret` list. */
export function secretNames(module: Pick<ServiceTypeModule, "secret">): string[] {
  return Array.isArray(module.secret) ? module.secret.filter((s): s is string => typeof s === "string") : [];
}

/**
 * What the supervisor runs for a service of this type: its command, with the stop signal and timeouts from its
 * settings (stopSignal, stopTimeout, readyTimeout, when the type has them), else the type's own, else the defaults;
 * and its readiness check.
 */
export function processSpec(hub: Hub, module: ServiceTypeModule, svc: ServiceContext): ProcessSpec {
  const launch = module.command(hub, svc);
  const s = svc.settings;
  const num = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : undefined);
  const ready = module.ready;
  const spec: ProcessSpec = {
    name: svc.name,
    argv: launch.argv,
    ...(launch.env === undefined ? {} : { env: launch.env }),
    cwd: launch.cwd ?? svc.dir,
    stopSignal: (typeof s.stopSignal === "string" ? s.stopSignal : module.stopSignal) as NodeJS.Signals,
    stopTimeout: num("stopTimeout") ?? module.stopTimeout ?? 10_000,
    readyTimeout: num("readyTimeout") ?? module.readyTimeout ?? 30_000,
  };
  spec.stopSignal ??= "SIGTERM";
  if (typeof ready === "function") spec.ready = (pid) => ready.call(module, hub, { ...svc, pid });
  return spec;
}
