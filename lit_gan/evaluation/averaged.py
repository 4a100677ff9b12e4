"""Which generator a command reads from a checkpoint: the EMA of G when the run kept one
(``model.init_args.ema_half_life_images``), else G itself; ``--use-ema false`` reads the raw
G. Used by `generate`, `evaluate` and `translate`; the evaluation card names the choice."""

from __future__ import annotations

from typing import Any

from lit_gan.errors import CommandError

USE_EMA_HELP = ("true: sample with the EMA of G the run kept (an error if it kept none); false: the raw G; "
                "default: the EMA when the checkpoint has one")


def parse_use_ema(text: str) -> bool:
    """argparse type of ``--use-ema``: true or false."""
    value = str(text).strip().lower()
    if value not in ("true", "false"):
        raise ValueError(text)
    return value == "true"


def choose_generator(model, use_ema: bool | None, ckpt: Any = "the checkpoint") -> dict[str, Any]:
    """Set ``model.use_ema`` (None: the average when there is one) and return the card's entry."""
    has_ema = bool(getattr(model, "has_ema", lambda: False)())
    if use_ema and not has_ema:
        raise CommandError(f"--use-ema true: {ckpt} kept no EMA of G (train with model.init_args.ema_half_life_images); "
                           "drop --use-ema to read G")
    if hasattr(model, "use_ema"):
        model.use_ema = has_ema if use_ema is None else bool(use_ema)
    return generator_card(model)


def generator_card(model) -> dict[str, Any]:
    """``{"weights": "ema" | "raw", ...}``: the averaged weights come with their half-life and ramp-up."""
    if not (getattr(model, "use_ema", False) and getattr(model, "has_ema", lambda: False)()):
        return {"weights": "raw"}
    return {"weights": "ema", "ema_half_life_images": model.ema_half_life_images, "ema_rampup": model.ema_rampup}
