// Stands in for the "jiti" package (tsconfig "paths" maps it here): c12 imports jiti at its top, but pop hands c12 a
// loader that uses Bun's own import(), so bundling jiti would only add a second TypeScript loader to every config load.

/** The one method c12 calls on its loader. */
export interface Jiti {
  import<T = unknown>(id: string, opts?: { default?: boolean }): Promise<T>;
}

/** Accepted for c12's types; pop passes none. */
export type JitiOptions = Record<string, unknown>;

/** Never called: pop always passes c12 its own `jiti` option. */
export function createJiti(): Jiti {
  throw new Error("jiti is not bundled into pop: pass c12 a loader (the `jiti` option) that uses Bun's import()");
}

export default createJiti;
