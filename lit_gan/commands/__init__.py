"""Our own small commands (generate, ...): argparse, logs on stderr, exit codes."""
