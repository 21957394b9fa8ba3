// What the built-in service types share (a `_` file: not a service type itself). Settings often arrive as text
// (`pop add TYPE --set port=8080`), so numbers, lists and records are also accepted as text and parsed here, and the
// zod schema stays the one place that says what each setting is.
import { constants } from "node:os";
import { type ServiceContext, z } from "pop";

const numeric = (v: unknown) => (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v);
const json = (v: unknown) => {
  if (typeof v !== "string" || !/^\s*[[{]/.test(v)) return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};
const text = (v: unknown) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v);

/** A TCP port, 1 to 65535. */
export const portSetting = z.preprocess(numeric, z.number().int().min(1).max(65535));

/** An integer of at least `min`. */
export const intSetting = (min: number) => z.preprocess(numeric, z.number().int().min(min));

/** A signal name this OS knows (SIGTERM, SIGINT, SIGHUP...). */
export const signalSetting = z
  .string()
  .refine((s) => Object.hasOwn(constants.signals, s), { message: "expected a signal name such as SIGTERM or SIGINT" })
  .transform((s) => s as NodeJS.Signals);

/** Environment variables: a record of strings (or its JSON text). */
export const envSetting = z.preprocess(json, z.record(z.string().regex(/^[^=\0]+$/), z.preprocess(text, z.string()))).default({});

/** A command line: a string split shell-like, or a list of arguments (or its JSON text). */
export const commandSetting = z.preprocess(
  json,
  z.union([z.string().trim().min(1), z.array(z.string()).min(1)], { error: "expected a command line: a string or a list of strings" }),
);

/** The settings every built-in type has: how many machines restart at once in a rollout, and the stop and ready bounds. */
export const common = {
  maxParallel: intSetting(1).default(1),
  readyTimeout: intSetting(0).optional(),
  stopSignal: signalSetting.optional(),
  stopTimeout: intSetting(0).optional(),
};

/** The executable that acts as Bun under BUN_BE_BUN=1: pop itself unless the context names another. */
export function bunOf(svc: ServiceContext): string {
  return svc.bun ?? process.execPath;
}

/** Split a command line the way a POSIX shell does for words: spaces separate, '...' is literal, "..." allows \" \\ \$ \`, \ escapes outside quotes. No expansion. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in command ${JSON.stringify(line)}`);
  if (inWord) words.push(cur);
  return words;
}
