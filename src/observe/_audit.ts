import { closeSync, openSync, writeSync } from "node:fs";
import { messageOf, UsageError } from "../errors.ts";
import type { CallEnd, Monitor } from "../hub/index.ts";

/**
 * A monitor appending one JSON line per hub call to `file`: { time, ref, caller, outcome, duration, error? }. Each line
 * is written with one write(2) on a file opened for appending, before the call returns to its caller: a process
 * killed afterwards (kill -9 included) has lost none of them.
 */
export function auditMonitor(file: string): { monitor: Monitor; close: () => void } {
  let fd: number | undefined;
  try {
    fd = openSync(file, "a", 0o600);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === "ENOENT" ? "its folder does not exist" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a folder" : messageOf(e);
    throw new UsageError(`cannot open the audit file "${file}" (option --audit): ${why}; give a file pop can append to`, "--audit", { hint: false });
  }
  const monitor: Monitor = {
    callers: true,
    after(call: CallEnd) {
      if (fd === undefined) return;
      const line: Record<string, unknown> = {
        time: new Date(call.time).toISOString(),
        ref: call.ref,
        caller: call.caller ?? null,
        outcome: call.outcome,
        duration: Math.round(call.duration * 1000) / 1000,
      };
      if (call.outcome === "error") line.error = messageOf(call.error);
      writeSync(fd, `${JSON.stringify(line)}\n`);
    },
  };
  const close = () => {
    if (fd === undefined) return;
    closeSync(fd);
    fd = undefined;
  };
  return { monitor, close };
}
