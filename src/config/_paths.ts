import { isAbsolute, relative } from "../_path.ts";

/** A file as messages show it: relative to the working directory when inside it (as `pop tree` does), else absolute. */
export function displayPath(file: string): string {
  if (!isAbsolute(file)) return file;
  const r = relative(process.cwd(), file);
  return r !== "" && !r.startsWith("..") && !isAbsolute(r) ? r : file;
}
