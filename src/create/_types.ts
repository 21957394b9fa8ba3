// What the scaffolder and its templates agree on. A template is a plugin module of the `create` sub (the built-ins
// are plugins/create/*.ts; a user's plugin root may add or override them): it exports `description`, `target` and
// `render(hub, ctx)`, and render returns the files to write. The scaffolder checks names, finds conflicts, writes
// everything at once (or nothing) and edits the project's DYNE.

/** What `render` gets about the thing to create. */
export interface CreateContext {
  /** The NAME given (checked: an identifier, not reserved); for SUB/NAME templates, the part after the slash. */
  name: string;
  /** For SUB/NAME templates (plugin, contract): the sub. */
  sub?: string;
  /** `--pattern`, for templates that have `patterns`. */
  pattern?: string;
  /** The project the files go into: its name (conf.ts NAME, else its folder's name). For a new project, `name`. */
  project: string;
  /** The project's DYNE as its conf.ts declares it (sub name -> folders, relative), or undefined when it has none. */
  dyne?: Record<string, string[]>;
  /** The target folder as the user named it ("." by default, or --in / --dir), for the commands printed next. */
  where: string;
  /** Whether a file exists in the project, relative to it (templates adapt to what is there). */
  exists(path: string): boolean;
  /** The version of pop writing the files. */
  popVersion: string;
}

/** What `render` returns. */
export interface TemplateOutput {
  /** Path relative to the target folder -> text. Paths may not leave the folder. */
  files: Record<string, string>;
  /** Subs the project's conf.ts DYNE must list (sub -> folders): added when the project declares a DYNE. */
  dyne?: Record<string, string[]>;
  /** A file to write the project's config JSON Schema into (what `pop config schema` prints), from the conf.ts written. */
  schema?: string;
  /** Run `pop types` on the folder afterwards, so editors and tsc know the hub (default true). */
  types?: boolean;
  /** Lines printed after the files: what to do next. */
  next?: string[];
  /** Lines printed after the files, before what to do next: what the user should know about what was written. */
  notes?: string[];
}

/** Where a template writes: `new` a new folder (NAME, or --dir), `project` into an existing project (--in, default "."). */
export type TemplateTarget = "new" | "project";

/** A template module as the scaffolder reads it off the hub (functions already bound to the hub). */
export interface TemplateModule {
  description: string;
  target: TemplateTarget;
  /** `name` (default) takes NAME; `sub/name` takes SUB/NAME. */
  ref?: "name" | "sub/name";
  /** Choices of --pattern (required when present). */
  patterns?: string[];
  render(ctx: CreateContext): TemplateOutput;
}
