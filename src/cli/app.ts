import { isDirectory } from "../_fs.ts";
import { join, relative } from "../_path.ts";
import { ConfigError, early } from "../config/index.ts";
import { CallError, locate, PopError, quote, shellWord, UncaughtError } from "../errors.ts";
import { reloadMessage } from "../hub/_watch.ts";
import { addSub, closeHub, dyneDirs, type Hub, hubFailures, hubRoots, onHubClose, placeUnrooted, watchHub } from "../hub/index.ts";
import { configureOutput, flushOutput, log, report } from "../output.ts";
import { type Command, UsageError } from "./_args.ts";
import { settled } from "./_callcore.ts";
import { EXIT } from "./_commands.ts";
import { HUB_ARGS } from "./_hubargs.ts";
import { out } from "./_output.ts";
import { openProject } from "./_project.ts";

const PATH = "pop app";

/** `pop app DIR [ARGS]...`: the tutorial's run.py: a hub, the project's own sub, then its `cli(hub)` with ARGS as its command line. */
const app: Command = {
  meta: {
    name: "app",
    description: "Run a project: create a hub, add the project's own sub (its dyne name), call its cli(hub); ARGS go to the project's command line",
    // "[options]", not a list that drifts from the options: every one of them goes before DIR.
    usage: "pop app [options] DIR [ARGS]...",
    examples: ["pop app examples/poppy --port 8080", "pop app examples/poppy --help", "pop app examples/poppy --version"],
  },
  args: {
    dir: {
      type: "positional",
      description:
        "The project folder: conf.ts (CONFIG, CLI_CONFIG, DYNE) and its subs; DIR/<name>/init.ts exports cli(hub). ARGS after it go untouched to the project (pop app DIR --help lists them)",
    },
    ...HUB_ARGS,
    plugins: { type: "string", multiple: true, valueHint: "DIR", description: "Merge another project onto the hub (its subs and its config), before DIR" },
    json: { type: "boolean", description: "Diagnostics as JSON lines (the app prints its own data)" },
    watch: {
      type: "boolean",
      description:
        "Reload a plugin file when it changes (a file that fails to load leaves the old version running; an isolated sub restarts its side, a remote sub's function list is read again)",
    },
  },
  passThrough: true,
  async run({ args, rest }) {
    if (args.json) configureOutput({ json: true });
    const dirArg = args.dir as string;
    const prog = `${PATH} ${shellWord(dirArg)}`;
    const { hub, name, root, projects } = await openProject(dirArg, args, PATH);
    // --help, --version and the logging options are answered before any of the app's code runs: help is a result.
    const pre = ownOptionsFirst(() => early({ roots: hubRoots(hub) }, projects, { cli: name, argv: rest, prog }), rest, dirArg);
    if (pre.help !== undefined || pre.version !== undefined) {
      out((pre.help ?? pre.version)!);
      return EXIT.ok;
    }
    hub.pop.config.ARGV = rest;
    hub.pop.config.PROG = prog;
    const dirs = dyneDirs(hub, name);
    if (!dirs) {
      // A folder name no sub can have ("my app"): the fix is a NAME, not a DYNE key that is no identifier.
      const fine = /^[A-Za-z][\w-]*$/.test(name);
      const fix = name.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^[^A-Za-z]+/, "") || "app";
      throw new UsageError(
        fine
          ? `project "${name}" (${dirArg}) has no sub "${name}": add DYNE = { ${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}: ["${name}"] } to its conf.ts, or a folder ${join(dirArg, name)}`
          : `project folder ${dirArg} is named ${JSON.stringify(name)}, which no sub can be named: add export const NAME = "${fix}" and DYNE = { ${fix}: ["${fix}"] } to its conf.ts`,
        PATH,
        { hint: false },
      );
    }
    const missing = dirs.filter((d) => !isDirectory(d));
    if (missing.length > 0) {
      const where = root.confFile ? relative(process.cwd(), root.confFile) || root.confFile : dirArg;
      throw new ConfigError(
        `${where}: DYNE "${name}" names ${missing.map((d) => `"${relative(process.cwd(), d) || d}"`).join(", ")}, which ${missing.length > 1 ? "do" : "does"} not exist; create the folder or fix DYNE`,
      );
    }
    const ref = `${name}.init.cli`;
    trapUncaught(hub, name);
    await placeUnrooted(hub); // remote subs no root here provides, before the project's init may call them
    await addSub(hub, { dyneName: name }); // the API, not hub.pop.sub.add: pop's own step is no call of the app's (--trace, --audit)
    const failed = hubFailures(hub).find((f) => f.ref === `${name}.init`);
    if (failed) throw failed;
    if (args.watch) {
      const stop = watchHub(hub, { onReload: (ev) => log.info(reloadMessage(ev), { event: "reload", ...ev }) });
      onHubClose(hub, stop);
    }
    const cli = hub[name]?.init?.cli;
    if (typeof cli !== "function") {
      const example = `export async function cli(hub: Hub) { await hub.pop.config.load(["${name}"], { cli: "${name}" }); ... }`;
      const init = hub[name]?.init;
      throw new UsageError(
        init === undefined
          ? `${dirs[0]!} has no init.ts, where an app starts: add one holding \`${example}\``
          : `${join(dirs[0]!, "init.ts")} does not export cli(hub): add \`${example}\``,
        PATH,
        { hint: false },
      );
    }
    let code: unknown;
    try {
      code = await settled(cli());
    } catch (e) {
      // pop's own errors (a bad config value: exit 2) say what they are; anything else is the app's failure.
      throw e instanceof PopError ? e : new CallError(ref, e, locate(e));
    }
    // A numeric string ("3") or a boolean is an exit code gone wrong, not "nothing returned": said, not exit 0.
    if (typeof code === "string" || typeof code === "boolean" || typeof code === "bigint")
      throw new PopError(
        `${quote(ref)} returned ${JSON.stringify(typeof code === "bigint" ? String(code) : code)} (a ${typeof code}) as the exit code; return a whole number from 0 to 255 (or nothing, for process.exitCode)`,
      );
    if (typeof code === "number") {
      // An exit status is one byte: 256 would end as 0 (success), -1 as 255, 1.5 as Node's range error.
      if (!Number.isInteger(code) || code < 0 || code > 255)
        throw new PopError(`${quote(ref)} returned ${code} as the exit code; return a whole number from 0 to 255 (or nothing, for process.exitCode)`);
      return code;
    }
    // When the event loop empties (a server stopped, a timer done), the hub closes: its __shutdown__ hooks run.
    process.once("beforeExit", () => void closeHub(hub).catch((e: unknown) => void (process.exitCode = report(e))));
    // Nothing returned: the event loop runs on (a server the app started keeps pop alive), and the exit code is
    // the one the app left in process.exitCode (the runner resets it once the command returns).
    const kept = process.exitCode;
    if (kept !== undefined && kept !== 0 && kept !== "0") process.once("exit", () => void (process.exitCode ||= kept));
    return undefined;
  },
};

export default app;

/**
 * The project's command line parsed by `parse`; an option it does not know that is one of pop app's own (given after
 * DIR, where everything goes to the app) is a usage error saying pop's options go before DIR.
 */
function ownOptionsFirst<T>(parse: () => T, rest: readonly string[], dirArg: string): T {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const own = new Set(
      Object.keys(app.args)
        .filter((k) => k !== "dir")
        .flatMap((k) => [`--${k}`, `--no-${k}`]),
    );
    const end = rest.indexOf("--");
    const args = end >= 0 ? rest.slice(0, end) : rest;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const flag = a.split("=")[0]!;
      if (own.has(flag) && e.message.includes(`unknown option ${JSON.stringify(flag)}`)) {
        const valued = !a.includes("=") && app.args[flag.replace(/^--(no-)?/, "")]?.type !== "boolean";
        const moved = valued ? `${a} ${args[i + 1] ?? "VALUE"}` : a;
        throw new UsageError(
          `unknown option ${JSON.stringify(flag)} for the app in ${dirArg}: pop's own options go before DIR, e.g. "pop app ${moved} ${dirArg}"`,
          PATH,
          {
            hint: false,
          },
        );
      }
    }
    throw e;
  }
}

/** After `cli(hub)` (a timer, a promise nobody awaits), an error is one `pop:` line and exit 1, after the hub closes. */
function trapUncaught(hub: Hub, name: string): void {
  let done = false;
  const fatal = (e: unknown) => {
    if (done) return;
    done = true;
    const code = report(new UncaughtError(e, ` in app "${name}"`));
    process.exitCode = code; // the exit code even if the event loop ends before the hub has closed
    const alive = setTimeout(() => {}, 60_000); // keep it running until then
    const exit = () =>
      void flushOutput()
        .catch(() => {})
        .finally(() => {
          clearTimeout(alive);
          process.exit(code);
        });
    closeHub(hub).then(exit, (err: unknown) => {
      report(err);
      exit();
    });
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
}
