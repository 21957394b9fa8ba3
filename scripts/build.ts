#!/usr/bin/env bun
// Build the pop executable: `bun run build` for this machine, `bun run build --target linux-arm64` (or several, or `all`) for others.
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";

const TARGETS = ["linux-x64", "linux-arm64", "linux-x64-musl", "linux-arm64-musl", "darwin-x64", "darwin-arm64", "windows-x64"] as const;

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { target: { type: "string", multiple: true }, outdir: { type: "string", default: "dist" }, "no-bytecode": { type: "boolean" } },
});

const wanted = (values.target ?? []).flatMap((t) => (t === "all" ? [...TARGETS] : [t]));
for (const t of wanted) {
  if (!(TARGETS as readonly string[]).includes(t)) {
    console.error(`build: unknown target "${t}"; choose from ${TARGETS.join(", ")} or all`);
    process.exit(2);
  }
}

mkdirSync(values.outdir!, { recursive: true });
// Files the executable embeds that are generated from the source (the `pop` module's declarations for `pop types`).
await import("./gen-types.ts");

async function build(target: string | undefined): Promise<void> {
  const outfile = `${values.outdir}/${target ? `pop-${target}${target.startsWith("windows") ? ".exe" : ""}` : "pop"}`;
  const cmd = [
    process.execPath,
    "build",
    "src/cli.ts",
    // A worker-isolated sub runs this file in a Bun Worker: workers of a compiled executable must be entry points.
    "src/isolate/_worker.ts",
    // pop call's lean path require()s the hub it makes on first use: an entry point can be required at run time.
    "src/cli/_leanhub.ts",
    "--compile",
    `--outfile=${outfile}`,
    // ESM bytecode starts fastest; splitting keeps what a command imports lazily (zod, c12) out of start-up.
    "--format=esm",
    "--splitting",
    ...(values["no-bytecode"] ? [] : ["--bytecode"]),
    // A user's folder must never inject code into pop: no bunfig.toml preload, no .env.
    "--no-compile-autoload-bunfig",
    "--no-compile-autoload-dotenv",
    // Plugins importing packages from their own node_modules resolve them.
    "--compile-autoload-package-json",
    ...(target ? [`--target=bun-${target}`] : []),
  ];
  const proc = Bun.spawn(cmd, { stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) {
    console.error(`build: ${outfile} failed`);
    process.exit(1);
  }
}

if (wanted.length === 0) await build(undefined);
else for (const t of wanted) await build(t);
