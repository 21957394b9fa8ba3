import { closeSync, existsSync, fstatSync, openSync, unlinkSync, writeSync } from "node:fs";
import { messageOf, PopError, quote, UsageError } from "../errors.ts";
import type { CallEnd, Monitor } from "../hub/index.ts";

/** An audit line could not be written (a full disk, an I/O error): the call it records fails with it, and the command ends non-zero. */
export class AuditError extends PopError {
  override name = "AuditError";
  override readonly code: string = "POP_AUDIT";
}

/**
 * A monitor appending one JSON line per hub call to `file`: { time, ref, caller, outcome, duration, error? }. Each line
 * is written with one write(2) on a file opened for appending, before the call returns to its caller: a process
 * killed afterwards (kill -9 included) has lost none of them. A line that cannot be written fails its call with an
 * AuditError naming the file and the OS error (no call goes unrecorded), and `close` throws one saying how many were lost.
 * A file this monitor created and recorded no call into is removed by `close`: a command that failed before any call
 * (a bad project, an unknown ref) leaves no empty audit file behind.
 */
export function auditMonitor(file: string): { monitor: Monitor; close: () => void } {
  let fd: number | undefined;
  const created = !existsSync(file);
  let written = 0;
  try {
    fd = openSync(file, "a", 0o600);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === "ENOENT" ? "its folder does not exist" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a folder" : messageOf(e);
    throw new UsageError(`cannot open the audit file "${file}" (option --audit): ${why}; give a file pop can append to`, "--audit", { hint: false });
  }
  let lost = 0;
  let why = "";
  const monitor: Monitor = {
    callers: true,
    failCalls: true,
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
      const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
      try {
        const n = writeSync(fd, bytes);
        written++; // even a short write left something in the file
        if (n !== bytes.length) throw new Error(`only ${n} of ${bytes.length} bytes written`);
      } catch (e) {
        lost++;
        why = messageOf(e);
        throw new AuditError(
          `call ${quote(call.ref)} could not be recorded: cannot write to the audit file ${quote(file)} (option --audit): ${why}; free space on its disk or give another file`,
          { cause: e },
        );
      }
    },
  };
  const close = () => {
    if (fd === undefined) return;
    // Still empty: another pop appending to the same file has written nothing to it either.
    const empty = created && written === 0 && lost === 0 && fstatSync(fd).size === 0;
    closeSync(fd);
    fd = undefined;
    if (empty) {
      try {
        unlinkSync(file);
      } catch {
        // already gone (or replaced by a folder): nothing of ours to remove
      }
    }
    if (lost > 0)
      throw new AuditError(`the audit file ${quote(file)} (option --audit) is missing ${lost} call${lost > 1 ? "s" : ""} that could not be recorded: ${why}`);
  };
  return { monitor, close };
}
