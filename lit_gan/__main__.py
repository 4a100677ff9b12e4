"""Entry point: ``python -m lit_gan <command>`` (also the ``lit-gan`` console script).

fit / validate / test / predict go to LightningCLI (lit_gan.cli); the other commands are
our own small ones in lit_gan.commands.
"""

from __future__ import annotations

import sys

OWN_COMMANDS = {
    "generate": "lit_gan.commands.generate",
    "evaluate": "lit_gan.commands.evaluate",
    "train-classifier": "lit_gan.commands.train_classifier",
    "compare-losses": "lit_gan.commands.compare_losses",
    "translate": "lit_gan.commands.translate",
    "reproduce": "lit_gan.commands.reproduce",
}


def main(argv: list[str] | None = None) -> None:
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in OWN_COMMANDS:
        import importlib

        sys.exit(importlib.import_module(OWN_COMMANDS[argv[0]]).main(argv[1:]))
    from lit_gan.cli import main as cli_main

    if not argv or argv[0] in ("-h", "--help"):
        print(f"Own commands: {', '.join(OWN_COMMANDS)} (run `python -m lit_gan <command> --help`)\n", file=sys.stderr)
    cli_main(None if from_command_line else argv)  # LightningCLI reads sys.argv itself


if __name__ == "__main__":
    main()
