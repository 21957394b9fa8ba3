// Child process for the eager-load benchmark: `bun _load_child.ts bare|hub DIR` prints the load time in ms.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createHub } from "../../src/hub/index.ts";

const [mode, dir] = Bun.argv.slice(2) as [string, string];
const sub = join(dir, "gen");
const t0 = performance.now();
if (mode === "bare") {
  await Promise.all(readdirSync(sub).map((f) => import(join(sub, f))));
} else {
  const hub = createHub();
  await hub.pop.sub.add({ path: sub, name: "gen", load: "eager" });
  if (typeof hub.gen.m999?.a !== "function") throw new Error("hub did not load m999");
}
console.log((performance.now() - t0).toFixed(3));
