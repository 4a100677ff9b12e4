"""lit_gan: classic adversarial generative models in PyTorch Lightning."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lit_gan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
