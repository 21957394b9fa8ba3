// A config file for poppy, typed from its conf.ts: pop config show examples/poppy --config examples/poppy/staging.config.ts
import { defineConfig } from "pop";
import type * as conf from "./conf.ts";

export default defineConfig<typeof conf>({
  port: 8080,
  $production: { addr: "0.0.0.0" },
});
