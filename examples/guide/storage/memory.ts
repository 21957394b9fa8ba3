import type { Hub } from "pop";

const data = new Map<string, string>();

/** Keep a value in memory. */
export function save(hub: Hub, { key, value }: { key: string; value: string }): void {
  data.set(key, value);
}

/** Read a value back. */
export function load(hub: Hub, { key }: { key: string }): string | undefined {
  return data.get(key);
}
