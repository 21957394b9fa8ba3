import type { Hub } from "pop";

/** Only load when asked to: a reason string says why the module stays out. */
export function __virtual__(hub: Hub): boolean | string {
  return process.env.GUIDE_DISK === "1" || "set GUIDE_DISK=1 to enable the disk backend";
}

/** Write a value under /tmp. */
export async function save(hub: Hub, { key, value }: { key: string; value: string }): Promise<void> {
  await Bun.write(`/tmp/pop-guide-${key}`, value);
}

/** Read it back. */
export async function load(hub: Hub, { key }: { key: string }): Promise<string | undefined> {
  const f = Bun.file(`/tmp/pop-guide-${key}`);
  return (await f.exists()) ? f.text() : undefined;
}
