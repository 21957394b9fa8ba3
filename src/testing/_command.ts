import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { join, resolve } from "../_path.ts";
import { type Command, UsageError } from "../cli/_args.ts";
import { closeHub, createHub, isDirectory, onHubClose } from "../hub/index.ts";
import { log } from "../output.ts";
import { messageOf, OutputError, quote } from "../errors.ts";
import { exists, isFile } from "../_fs.ts";
import { cachedFolder, writeTypes } from "../types/index.ts";
import { isProject } from "../types/_project.ts";
import POP_MODULE_GZ from "./_popmodule.generated.js.gz" with { type: "file" };

const PATH = "pop test";

/** `pop test [DIR] [-- ARGS]`: the project's tests, run by the Bun inside this executable with "pop" importable. */
export const command: Command = {
  meta: {
    name: "test",
    description:
      "Run a project's tests with the Bun inside pop (no Bun needed): `import { testHub, mockHub } from \"pop\"` works in them; the hub's types are refreshed first. Output and exit code are bun test's",
    usage: "pop test [--no-types] [DIR] [[--] BUN_TEST_ARGS]...",
    examples: ["pop test myproject", "pop test myproject -- --bail test/cart.test.ts", "pop test -t cart", "pop test test/cart.test.ts"],
  },
  args: {
    dir: {
      type: "positional",
      required: false,
      description:
        'The project folder, with a conf.ts, a pop.json or a package.json "pop" field (default: the working directory; any folder with --no-types); bun test runs there, with every argument after DIR (or after --). A file or an option pop does not know, first, is bun test\'s, and DIR is the working directory',
    },
    types: { type: "boolean", negatable: true, description: "Do not refresh the hub's types (pop types) before running" },
  },
  passThrough: true,
  passUnknown: true,
  async run({ args, rest: given }) {
    let rest = given;
    let dirArg = (args.dir as string | undefined) ?? ".";
    // `pop test test/cart.test.ts`, as `bun test test/cart.test.ts`: a file for bun test, run in the working directory.
    if (isFile(dirArg)) [dirArg, rest] = [".", [dirArg, ...rest]];
    const dir = resolve(dirArg);
    if (!isDirectory(dir)) {
      throw new UsageError(
        `project folder ${quote(dirArg)} ${exists(dir) ? "is not a folder" : "does not exist"}: pass the folder holding the project's tests; to run bun test with the filter ${quote(dirArg)} in the working directory: pop test . ${dirArg}`,
        PATH,
      );
    }
    // Any folder of tests is not a project: pop types would type every sub-folder as a sub and write .pop/ there.
    if (args.types !== false && !isProject(dir)) {
      throw new UsageError(
        `${quote(dir)} is not a pop project: a project folder has a conf.ts, a pop.json or a package.json with a "pop" field; pass one (pop test myproject), or run bun test there without pop types: pop test --no-types ${dirArg}`,
        PATH,
      );
    }
    if (args.types !== false) {
      // Stale types never stop a test run: the tests say what is wrong with the project better than a warning can.
      try {
        await writeTypes({ dir, env: {} }); // the roots testHub sees: no POP_PLUGIN_PATH
      } catch (e) {
        log.warn(`types not refreshed (pop types ${dirArg}): ${messageOf(e)}`);
      }
    }
    const preload = await runtimeFiles();
    // `pop test DIR -- ARGS`: the "--" is pop's (bun test would take what follows it for file filters).
    if (rest[0] === "--") rest = rest.slice(1);
    const proc = Bun.spawn([process.execPath, "test", "--preload", preload, ...rest], {
      cwd: dir,
      env: { ...process.env, BUN_BE_BUN: "1" },
      stdio: ["inherit", "inherit", "inherit"],
    });
    return await childExit(proc);
  },
};

/**
 * The exit code of bun test, pop's own once it has finished. A SIGINT or SIGTERM sent to pop is passed on to it and
 * pop waits for it (the CLI's signal handler closes the open hubs, and this hub's close hook holds it until bun test
 * has ended), then exits with its code; should pop exit anyway (a second signal), bun test is killed with it.
 */
async function childExit(proc: Bun.Subprocess): Promise<number> {
  const forward = (signal: NodeJS.Signals) => () => proc.kill(signal);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  const orphan = () => proc.kill("SIGKILL");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  process.on("exit", orphan);
  const code = proc.exited.then(() => proc.exitCode ?? 128 + (signalNumber(proc.signalCode) ?? 1));
  const hub = createHub();
  onHubClose(hub, async () => process.exit(await code));
  try {
    return await code;
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    process.off("exit", orphan);
    await closeHub(hub);
  }
}

/** The number of a signal by name (SIGTERM: 15), for the shell's 128 + n exit code of a child it ended. */
function signalNumber(signal: string | number | null): number | undefined {
  return typeof signal === "number" ? signal : signal ? (osConstants.signals as Record<string, number>)[signal] : undefined;
}

/** The preload: serves "pop" from the bundled module beside it, and closes the test hubs left open when the run ends. */
function preloadSource(popModule: string): string {
  return `// Written by pop test: registers the "pop" module for bun test (do not edit).
import { plugin } from "bun";
import { afterAll } from "bun:test";
const POP = ${JSON.stringify(popModule)};
plugin({ name: "pop-module", setup(build) { build.module("pop", () => ({ exports: require(POP), loader: "object" })); } });
afterAll(async () => { await globalThis[Symbol.for("pop.closeTestHubs")]?.(); });
`;
}

/**
 * The preload and the pop module as files Bun can load, in a cache folder named by their hash (written once per pop
 * build). Where no cache folder is this user's alone (`cachedFolder`), a fresh private one (mode 0700) serves this run
 * and is removed when pop exits. Returns the preload's path.
 */
async function runtimeFiles(): Promise<string> {
  const gz = await Bun.file(POP_MODULE_GZ).bytes();
  const fill = (tmp: string, final: string) => {
    writeFileSync(join(tmp, "pop.js"), Bun.gunzipSync(gz));
    writeFileSync(join(tmp, "preload.js"), preloadSource(join(final, "pop.js"))); // where pop.js is once renamed into place
  };
  try {
    return join(cachedFolder(`test-${Bun.hash(gz).toString(16)}`, "preload.js", fill), "preload.js");
  } catch (e) {
    log.debug(`pop test: runtime files in a private temporary folder (${messageOf(e)})`);
  }
  try {
    const dir = mkdtempSync(join(tmpdir(), "pop-test-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    fill(dir, dir);
    return join(dir, "preload.js");
  } catch (e) {
    throw new OutputError(`pop test cannot write its runtime files in "${tmpdir()}": ${messageOf(e)}; set TMPDIR or XDG_CACHE_HOME to a writable folder`, {
      cause: e,
    });
  }
}
