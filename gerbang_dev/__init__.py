"""Developer tooling, not shipped to doors or servers: benches, the virtual board, the GM65
scanner emulator, vector and doc-example generators, the demo. Their `gerbang` subcommands are
registered through the `gerbang.dev_commands` entry point group (pyproject.toml), so the CLI
never imports this package."""
