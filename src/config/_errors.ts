/** A configuration mistake the user can fix: a bad value, flag, file or definition. The CLI prints the message and exits 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The exit code the pop CLI uses. */
  readonly exitCode = 2;
}

/** `--help` was given on a project's command line: `text` is the help to print (to stdout, exit 0). */
export class ConfigHelp extends Error {
  override name = "ConfigHelp";
  readonly exitCode = 0;
  readonly text: string;
  constructor(text: string) {
    super("help requested");
    this.text = text;
  }
}
