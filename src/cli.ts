#!/usr/bin/env bun
import { main } from "./cli/index.ts";

const code = await main(process.argv.slice(2));
if (code === undefined) process.exitCode = 0;
else process.exit(code);
