// What scripts/gen-types.ts writes at build, imported with `with { type: "file" }`: the path of the embedded file.
declare module "*.generated.d.ts.gz" {
  const path: string;
  export default path;
}
declare module "*.generated.json.gz" {
  const path: string;
  export default path;
}
declare module "*.generated.js.gz" {
  const path: string;
  export default path;
}
