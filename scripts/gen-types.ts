// Run by scripts/build.ts before compiling: generates what `pop types` embeds (placeholder: its owner fills it in).
export {};
