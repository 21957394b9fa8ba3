import { plugin } from "bun";

let registered = false;

/** Serve `import … from "pop"` to plugin files from inside the executable (no node_modules needed). Its exports load on first import. */
export function registerPopModule(): void {
  if (registered) return;
  registered = true;
  plugin({
    name: "pop-module",
    setup(build) {
      build.module("pop", () => ({ exports: require("../pop.ts"), loader: "object" }));
    },
  });
}
