"""One module per command: plain typed functions the CLI calls."""
