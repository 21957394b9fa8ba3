// Linux process controls pop needs for process isolation, through libc's prctl (bun:ffi). Each is best effort:
// where there is no glibc (musl, macOS, Windows) it returns false and the docs say what that leaves.
const PR_SET_PDEATHSIG = 1;
const PR_SET_DUMPABLE = 4;
const SIGKILL = 9;

function prctl(option: number, arg: number): boolean {
  if (process.platform !== "linux") return false;
  try {
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    const libc = dlopen("libc.so.6", { prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 } });
    try {
      return libc.symbols.prctl(option, arg, 0, 0, 0) === 0;
    } finally {
      libc.close();
    }
  } catch {
    return false;
  }
}

/** The kernel kills this process when its parent dies (even one stuck in a loop that would never see its IPC channel close). */
export function dieWithParent(): boolean {
  return prctl(PR_SET_PDEATHSIG, SIGKILL);
}

let hidden: boolean | undefined;

/**
 * Make this process non-dumpable, once: its /proc files (environ, mem) are then closed to other processes of the
 * same user, so a process-isolated child cannot read the host's environment from /proc/<host>/environ. The cost:
 * no core dumps, and attaching a debugger needs root.
 */
export function hideFromChildren(): boolean {
  return (hidden ??= prctl(PR_SET_DUMPABLE, 0));
}
