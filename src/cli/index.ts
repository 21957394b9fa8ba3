export { main, reportError, VERSION } from "./_main.ts";
export { type ArgDef, type Command, type RunContext, UsageError } from "./_args.ts";
export { EXIT } from "./_commands.ts";
