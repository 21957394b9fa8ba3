// poppy's definition, in one place: its options (CONFIG), which of them the command line takes (CLI_CONFIG), and
// which folders hold which subs (DYNE). The CLI, POPPY_* environment variables, poppy.config.* files, --help and
// `pop config schema examples/poppy` all come from here.

export const CONFIG = {
  addr: {
    default: "127.0.0.1",
    help: "The address to present the rpc server on",
  },
  port: {
    default: 8888,
    help: "The port to bind to; 0 picks a free one",
  },
};

export const CLI_CONFIG = {
  addr: { options: ["-a"] },
  port: { options: ["-p"] },
};

export const DYNE = { poppy: ["poppy"], rpc: ["rpc"] };

/** What `pop app examples/poppy --version` prints. */
export const VERSION = "1.0.0";
