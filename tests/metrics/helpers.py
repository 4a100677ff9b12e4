"""Small feature modules for metric tests (no downloads): lit_gan's own tiny extractor."""

from lit_gan.metrics.tiny_extractor import TinyClassifier, write_tiny_extractor

__all__ = ["TinyClassifier", "write_tiny_extractor"]
