// While plugin code loads, or runs a call that pop call or pop serve made, process.exit() throws instead: a plugin
// ending the process would end pop with exit 0 and no output, or end a server with every call in flight. One trap
// for the hub's loads (src/hub/_module.ts), pop call (src/cli/call.ts, and its lean path src/cli/_lean.ts, which
// runs before the hub's code is loaded) and pop serve's calls: this file imports nothing.

/** Makes the error a trapped process.exit() throws: the hub sets ExitCalledError (src/errors.ts) when it loads. */
let makeError: (message: string, requested: number) => Error = (message, requested) => new ExitCalled(message, requested);

/**
 * What a trapped process.exit() throws before the hub's code is loaded (pop call's lean path): the same message as
 * ExitCalledError, which the hub turns into the same load failure (src/hub/_module.ts loadError).
 */
export class ExitCalled extends Error {
  override name = "ExitCalledError";
  readonly code = "POP_EXIT_CALLED";
  constructor(
    message: string,
    readonly requested: number,
  ) {
    super(message);
  }
}

/** The hub's error class for a trapped exit (set once, by src/hub/_module.ts). */
export function exitErrorIs(make: (message: string, requested: number) => Error): void {
  makeError = make;
}

let guards = 0;
/** Of `guards`, how many are calls (the rest are loads): the message says which the plugin was doing. */
let calls = 0;
let trapped = false;
let ending = false;

/**
 * Installed once, by the first guarded step (a load, a call pop call or pop serve makes, the lean path's import):
 * while one runs (guards > 0), process.exit() throws; otherwise it is the real one. One property write per process,
 * not two per step.
 */
export function trapExit(): void {
  guards++;
  if (trapped) return;
  trapped = true;
  const real = process.exit;
  process.exit = function exit(code?: number | string | null): never {
    if (guards === 0 || ending) return real.call(process, code as number);
    const n = Number(code ?? process.exitCode ?? 0);
    const doing = guards > calls ? "the plugin loaded" : "a plugin's function ran";
    throw makeError(`process.exit(${code ?? ""}) called while ${doing}: a plugin must not end the process; throw an error instead`, Number.isFinite(n) ? n : 1);
  } as typeof process.exit;
}

export function releaseExit(): void {
  guards--;
}

/** A call the CLI made (pop call's function, a call pop serve answers) is running: process.exit() throws until releaseCallExit. */
export function trapCallExit(): void {
  calls++;
  trapExit();
}

export function releaseCallExit(): void {
  calls--;
  guards--;
}

/**
 * The process is ending (closeOpenHubs: a signal, a command's end): process.exit is the real one again, even while a
 * plugin still loads. A hub created afterwards (the CLI run again in-process, as tests do) turns the trap back on.
 */
export function endExitTrap(on = true): void {
  ending = on;
}

export function guardExitSync<T>(fn: () => T): T {
  trapExit();
  try {
    return fn();
  } finally {
    releaseExit();
  }
}
