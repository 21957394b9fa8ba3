// poppy's definition: which folders hold which subs (DYNE). The config issue adds CONFIG and CLI_CONFIG here.
export const DYNE = { poppy: ["poppy"], rpc: ["rpc"] };
