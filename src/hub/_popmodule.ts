import { plugin } from "bun";

let registered = false;
let served = false;

/** Whether a plugin has imported "pop" (pop call's lean path leaves such a call to the full path: the module's functions take the hub as it is). */
export function popModuleServed(): boolean {
  return served;
}

/** Serve `import … from "pop"` to plugin files from inside the executable (no node_modules needed). Its exports load on first import. */
export function registerPopModule(): void {
  if (registered) return;
  registered = true;
  plugin({
    name: "pop-module",
    setup(build) {
      build.module("pop", () => {
        served = true;
        return { exports: require("../pop.ts"), loader: "object" };
      });
    },
  });
}
