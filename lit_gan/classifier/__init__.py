"""Image classifiers trained to serve as feature extractors (``python -m lit_gan train-classifier``)."""

from lit_gan.classifier.model import FeatureHead, ImageClassifier

__all__ = ["FeatureHead", "ImageClassifier"]
