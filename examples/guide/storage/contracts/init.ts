// The sub's own contract (contracts/init.ts) applies to every module of the storage sub.
// sig_ exports say which functions every backend must export; a module lacking one is not loaded.
export function sig_save(hub: unknown, { key, value }: { key: string; value: string }): void {}
export function sig_load(hub: unknown, { key }: { key: string }): string | undefined {
  return undefined;
}
