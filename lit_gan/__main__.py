"""Entry point: ``python -m lit_gan <command>`` (also the ``lit-gan`` console script).

fit / validate / test / predict go to LightningCLI (lit_gan.cli); the other commands are
our own small ones in lit_gan.commands. Known user errors (lit_gan.errors) print one
message and exit with 2; ``--verbose`` before the command or ``LIT_GAN_VERBOSE=1`` keeps
the traceback.
"""

from __future__ import annotations

import os
import sys

OWN_COMMANDS = {
    "generate": "lit_gan.commands.generate",
    "evaluate": "lit_gan.commands.evaluate",
    "train-classifier": "lit_gan.commands.train_classifier",
    "compare-losses": "lit_gan.commands.compare_losses",
    "translate": "lit_gan.commands.translate",
    "reproduce": "lit_gan.commands.reproduce",
    "prepare": "lit_gan.commands.prepare",
    "arithmetic": "lit_gan.commands.arithmetic",
}

# One line per command for --help; tests/test_main.py checks these cover every command.
LIGHTNING_SUMMARIES = {
    "fit": "train a model (--config FILE.yaml; see experiments/)",
    "validate": "one validation epoch, e.g. of a checkpoint (--ckpt_path)",
    "test": "one test epoch, e.g. of a checkpoint (--ckpt_path)",
    "predict": "run the model's predict step over the data",
}
OWN_SUMMARIES = {
    "generate": "draw samples from a checkpoint into OUT.npz or a folder of PNGs",
    "evaluate": "FID / KID / IS / class coverage / Parzen of a checkpoint or samples file",
    "train-classifier": "train a small classifier to use as the metrics' feature extractor",
    "compare-losses": "train every loss on the 2-D ring of Gaussians, one figure",
    "translate": "run an image-to-image checkpoint (pix2pix, CycleGAN) over images",
    "reproduce": "run a paper table and write our numbers beside the paper's",
    "prepare": "build a pix2pix / CycleGAN dataset from (Fashion-)MNIST (see --list)",
    "arithmetic": "latent vector arithmetic (DCGAN Fig. 7): u - v + w of sample groups, one figure",
}


def usage(prog: str) -> str:
    def block(summaries: dict[str, str]) -> str:
        return "\n".join(f"  {name:<18}{text}" for name, text in summaries.items())

    return (
        f"usage: {prog} [--verbose] <command> [options]\n\n"
        f"Classic GANs in PyTorch Lightning. `{prog} <command> --help` shows a command's options.\n\n"
        f"training (LightningCLI):\n{block(LIGHTNING_SUMMARIES)}\n"
        f"our commands:\n{block(OWN_SUMMARIES)}\n\n"
        "options:\n"
        f"  {'-h, --help':<18}show this message and exit\n"
        f"  {'--verbose':<18}show the full traceback of any error (or set LIT_GAN_VERBOSE=1)\n"
    )


def main(argv: list[str] | None = None) -> None:
    from lit_gan.errors import (
        EXIT_USER_ERROR,
        VERBOSE_ENV,
        short_report,
        user_facing,
        verbose,
    )
    from lit_gan.program import program_name

    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--verbose"]:
        argv = argv[1:]
        os.environ[VERBOSE_ENV] = "1"  # DDP ranks and training subprocesses inherit it
        if from_command_line:
            sys.argv[1:] = argv  # LightningCLI and its DDP launcher read sys.argv
    prog = program_name()
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(prog), end="", file=sys.stdout if argv else sys.stderr)
        sys.exit(0 if argv else EXIT_USER_ERROR)
    try:
        if argv[0] in OWN_COMMANDS:
            import importlib

            sys.exit(importlib.import_module(OWN_COMMANDS[argv[0]]).main(argv[1:]))
        from lit_gan.cli import main as cli_main

        cli_main(None if from_command_line else argv)  # LightningCLI reads sys.argv itself
    except Exception as exc:  # SystemExit (usage errors, preemption) passes through
        exit_code = getattr(exc, "exit_code", None)  # e.g. lit_gan.training.divergence.Diverged: 3
        if exit_code is not None and not verbose():
            print(short_report(exc, prog), file=sys.stderr)
            sys.exit(exit_code)
        shown = None if verbose() else user_facing(exc)
        if shown is None:
            raise
        print(short_report(shown, prog), file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


if __name__ == "__main__":
    main()
