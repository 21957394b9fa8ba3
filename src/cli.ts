#!/usr/bin/env bun
// `pop call` first tries its lean path (src/cli/_lean.ts), which runs the common call before pop's CLI and hub code
// are loaded; anything it does not take, and every other command, goes to main.
export {};
const argv = process.argv.slice(2);
const lean = argv[0] === "call" ? await (await import("./cli/_lean.ts")).leanCall(argv) : undefined;
const code = lean ?? (await (await import("./cli/index.ts")).main(argv));
if (code === undefined) process.exitCode = 0;
else process.exit(code);
