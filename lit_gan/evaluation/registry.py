"""The metric registry: every metric name, what it needs, the keys it writes, how it is computed.

``evaluate``, the ``GenerativeMetrics`` callback, ``reproduce``'s table validation and
``compare-losses`` all read this table. Two kinds of metric:

- a **feature metric** (``FeatureMetric``) is a torchmetrics ``Metric`` fed with the
  extractor's outputs of real and generated images; one extraction pass serves all of them
  (lit_gan.evaluation.features), sharded over K processes, synced in ``compute()``;
- a **sample metric** (``SampleMetric``) reads samples, not features: its own pass over G's
  float samples (Parzen) or 2-D points (modes), or (``shared_pass``) the translations of the
  evaluation's one pass, batch by batch, with the inputs and targets they belong to (paired).

A new metric is one file (its Metric or function) plus one entry below.

``needs`` says what a metric reads: ``features`` (extractor features), ``logits`` (a
classifier extractor's class logits), ``labels`` (the labels generated samples were made
for: a class-conditional source), ``real_labels`` (the real images' classes),
``float_samples`` (G's outputs before rounding), ``points`` (2-D samples), ``modes`` (a
datamodule with known modes), ``translator`` (an image-to-image checkpoint).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from lit_gan.evaluation.timing import section
from lit_gan.metrics.conditional import ConditionalAccuracy, IntraFID
from lit_gan.metrics.extractors import Features
from lit_gan.metrics.prdc import DC_K, PR_K, PRDC
from lit_gan.metrics.scores import (IS_SPLITS, KID_SUBSET_SIZE, KID_SUBSETS, ClassCoverage, FeatureFID, PassThrough,
                                    count_tag, fid_from_symmetric_roots, kid_subset_size)
from lit_gan.metrics.seeded import SeededInceptionScore, SeededKID, SeededSubsets


@dataclass(frozen=True)
class FeatureContext:
    """What building a feature metric may depend on."""

    num_features: int
    extractor_classes: int | None  # a classifier extractor's class count (None: features only)
    n_real: int
    n_fake: int
    kid_subsets: int = KID_SUBSETS
    kid_subset_size: int = KID_SUBSET_SIZE
    label_classes: int | None = None  # classes of the generated samples' labels (conditional sources)
    multilabel: bool = False  # the extractor's logits are independent attributes (meta multilabel: true)


@dataclass(frozen=True)
class FeatureMetric:
    name: str
    about: str
    needs: frozenset[str]
    keys: tuple[str, ...]  # "{n}" stands for the sample-count tag (10k)
    build: Callable[[FeatureContext], Metric]
    update: Callable[[Metric, Features, Tensor | None, bool], None]  # (metric, features, labels, real)
    result: Callable[[Any], tuple]  # compute()'s value -> values in the order of ``keys``


@dataclass(frozen=True)
class SampleMetric:
    name: str
    about: str
    needs: frozenset[str]
    keys: tuple[str, ...]
    run: str  # "module:function" (imported on use): (SampleContext) -> (values, card)
    # fed the evaluation's own pass: ``run`` then builds (SampleContext) -> an object with
    # update(Translated batch) and result() -> (values, card), sharded like the feature metrics
    shared_pass: bool = False


def _needs_classifier(ctx: FeatureContext, name: str) -> int:
    if not ctx.extractor_classes:
        # a multi-label attribute extractor (meta multilabel: true, e.g. CelebA attributes) has no
        # num_classes / class_names: its logits are independent yes/no scores, not a class distribution
        raise ValueError(f"the {name!r} metric needs a classifier feature extractor (one that returns logits "
                         "and names its classes), e.g. the file written by `python -m lit_gan train-classifier` on "
                         "MNIST; a multi-label attribute extractor (metadata multilabel: true, e.g. CelebA "
                         "attributes) scores independent yes/no attributes, not classes, and is refused, as is Inception")
    return ctx.extractor_classes


def _one_class_per_image(ctx: FeatureContext) -> int:
    """IS reads the logits as one class distribution per image; attribute logits are not one."""
    if ctx.multilabel:
        raise ValueError("the 'is' metric reads the extractor's logits as one class distribution per image; this "
                         "extractor is multi-label (independent attributes, metadata multilabel: true): use a "
                         "single-label classifier or Inception")
    return ctx.num_features


def _needs_labels(ctx: FeatureContext, name: str) -> int:
    if not ctx.label_classes:
        raise ValueError(f"the {name!r} metric scores class-conditional samples: evaluate a conditional "
                         "checkpoint, a samples file with a `labels` array (from `generate` on one), or an "
                         "image-to-image checkpoint on data whose classes are known (the sets `python -m lit_gan "
                         "prepare` makes: edges2fashion, sneaker2boot, ...)")
    return ctx.label_classes


def _build_accuracy(ctx: FeatureContext) -> Metric:
    classes = _needs_classifier(ctx, "accuracy")
    labels = _needs_labels(ctx, "accuracy")
    if labels != classes:
        raise ValueError(f"the model has {labels} classes but the classifier extractor {classes}: use a classifier "
                         "trained on the model's dataset")
    return ConditionalAccuracy(classes)


def _build_intra_fid(ctx: FeatureContext) -> Metric:
    _needs_classifier(ctx, "intra_fid")  # classes of real images come from the data; features from a classifier
    return IntraFID(_needs_labels(ctx, "intra_fid"), ctx.num_features)


def _pool(metric: Metric, f: Features, labels: Tensor | None, real: bool) -> None:
    metric.update(f.pool.to(metric.device), real=real)


def _logits(f: Features, name: str) -> Tensor:
    if f.logits is None:
        raise ValueError(f"{name} needs class logits; this feature extractor returns features only")
    return f.logits


def _is_update(metric: Metric, f: Features, labels: Tensor | None, real: bool) -> None:
    if not real:
        metric.update(_logits(f, "is").to(metric.device))


def _classes_update(metric: Metric, f: Features, labels: Tensor | None, real: bool) -> None:
    metric.update(_logits(f, "classes").to(metric.device), real=real)


def _accuracy_update(metric: Metric, f: Features, labels: Tensor | None, real: bool) -> None:
    if not real:
        metric.update(_logits(f, "accuracy").to(metric.device), labels.to(metric.device))


def _intra_fid_update(metric: Metric, f: Features, labels: Tensor | None, real: bool) -> None:
    if labels is None:
        raise ValueError("intra_fid needs the classes of the real images: the datamodule's items must be "
                         "(image, label); this split has no labels")
    metric.update(f.pool.to(metric.device), labels.to(metric.device), real=real)


def _kid(ctx: FeatureContext) -> Metric:
    return SeededKID(feature=PassThrough(ctx.num_features), subsets=ctx.kid_subsets,
                     subset_size=kid_subset_size(ctx.n_real, ctx.n_fake, ctx.kid_subset_size))


REGISTRY: dict[str, FeatureMetric | SampleMetric] = {m.name: m for m in (
    FeatureMetric("fid", "Frechet distance of features (Heusel et al. 2017)", frozenset({"features"}), ("fid_{n}",),
                  lambda ctx: FeatureFID(feature=PassThrough(ctx.num_features)), _pool,
                  lambda v: (v,)),
    FeatureMetric("kid", "kernel distance, mean and std over subsets (Binkowski et al. 2018)", frozenset({"features"}),
                  ("kid_{n}", "kid_{n}_std"), _kid, _pool, lambda v: (v[0], v[1])),
    FeatureMetric("is", "Inception score, 10 splits (Salimans et al. 2016)", frozenset({"logits"}),
                  ("is_{n}", "is_{n}_std"),
                  lambda ctx: SeededInceptionScore(feature=PassThrough(_one_class_per_image(ctx)), splits=IS_SPLITS),
                  _is_update,
                  lambda v: (v[0], v[1])),
    FeatureMetric("classes", "classes covered and KL of predicted-class histograms", frozenset({"logits"}),
                  ("classes_covered", "classes_kl"),
                  lambda ctx: ClassCoverage(_needs_classifier(ctx, "classes")), _classes_update,
                  lambda v: (int(v[0]), v[1])),
    # of translations: the share a classifier gives the intended class (the edges' item, or
    # class B for A -> B), the "FCN-score" idea of Isola et al. 2017 sec. 4.2
    FeatureMetric("accuracy", "share of samples classified as their label (Odena et al. 2017); of translations, "
                  "as their target class (Isola et al. 2017's FCN-score idea)",
                  frozenset({"logits", "labels"}), ("accuracy",), _build_accuracy, _accuracy_update, lambda v: (v,)),
    FeatureMetric("intra_fid", "mean over classes of per-class FID (Miyato & Koyama 2018)",
                  frozenset({"features", "labels", "real_labels"}), ("intra_fid",), _build_intra_fid,
                  _intra_fid_update, lambda v: (v[0],)),
    FeatureMetric("prdc", f"precision and recall (Kynkaanniemi et al. 2019, k={PR_K}), density and coverage "
                  f"(Naeem et al. 2020, k={DC_K}) of k-NN balls in feature space", frozenset({"features"}),
                  ("precision_{n}", "recall_{n}", "density_{n}", "coverage_{n}"), lambda ctx: PRDC(), _pool,
                  lambda v: (v["precision"], v["recall"], v["density"], v["coverage"])),
    SampleMetric("parzen", "Parzen-window log-likelihood (Goodfellow et al. 2014, Table 1)",
                 frozenset({"float_samples"}), ("parzen_ll", "parzen_ll_sem", "parzen_sigma"),
                 "lit_gan.evaluation.parzen:parzen_metric"),
    SampleMetric("modes", "modes covered, high-quality fraction and reverse KL of 2-D mixtures (VEEGAN, PacGAN)",
                 frozenset({"points", "modes"}),
                 ("modes_covered", "modes_covered_min1", "num_modes", "high_quality_fraction", "mode_reverse_kl"),
                 "lit_gan.evaluation.modes:modes_metric"),
    SampleMetric("class_diversity", "within-class diversity: per-pixel std over each class's samples, mean over "
                 "pixels, then over classes ([0, 1] pixels; 0 = every class collapsed to one image)",
                 frozenset({"labels"}), ("class_diversity", "class_diversity_min"),
                 "lit_gan.evaluation.class_diversity:class_diversity_metric"),
    SampleMetric("paired", "L1 / PSNR / SSIM of translations against their targets (pix2pix), cycle L1 "
                 "(CycleGAN): the scores of the model's test_step, of the translations the other metrics read",
                 frozenset({"translator"}), ("l1", "psnr", "ssim", "cycle_l1"), "lit_gan.evaluation.paired:PairedScores",
                 shared_pass=True),
)}

FEATURE_METRICS = tuple(name for name, m in REGISTRY.items() if isinstance(m, FeatureMetric))
SAMPLE_METRICS = tuple(name for name, m in REGISTRY.items() if isinstance(m, SampleMetric))
ALL_METRICS = tuple(REGISTRY)


def reads_shared_pass(name: str) -> bool:
    """Whether ``name`` is fed the translations of the evaluation's pass (not a pass of its own)."""
    return bool(getattr(REGISTRY[name], "shared_pass", False))


def needs_a_model(name: str) -> bool:
    """Whether ``name`` needs a checkpoint's model (not only a samples file)."""
    return bool(REGISTRY[name].needs & {"translator", "modes"})


def check_names(names: list[str]) -> None:
    unknown = sorted(set(names) - set(REGISTRY))
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {', '.join(ALL_METRICS)}")


def keys(name: str, n_fake: int) -> list[str]:
    """The result keys metric ``name`` writes for ``n_fake`` samples."""
    return [key.format(n=count_tag(n_fake)) for key in REGISTRY[name].keys]


def build(names: list[str], ctx: FeatureContext) -> dict[str, Metric]:
    check_names(names)
    # KID / IS warn that they keep all features: that is the point here (10k x 2048 floats)
    warnings.filterwarnings("ignore", message=r"Metric `(Kernel Inception Distance|InceptionScore)` will save all")
    # the registry's order, whatever the names' order: KID and IS draw their subsets from one seeded
    # generator in turn, so the order fixes their values
    return {name: m.build(ctx) for name, m in REGISTRY.items() if name in names and isinstance(m, FeatureMetric)}


def update(metrics: dict[str, Metric], features: Features, real: bool, labels: Tensor | None = None) -> None:
    """Real images: ``labels`` are their classes (if known); generated: the labels they were made for."""
    for name, metric in metrics.items():
        with section(f"metric:{name}"):
            REGISTRY[name].update(metric, features, labels, real)


def compute(metrics: dict[str, Metric], n_fake: int, seed: int) -> dict[str, float]:
    """Every rank must call this (the metrics sync inside). KID / IS subsets use ``seed``,
    through a generator of their own: the global streams (CPU and CUDA) are neither read
    nor re-seeded, so training noise after a metrics pass is what it would have been."""
    out: dict[str, float] = {}
    generator = torch.Generator().manual_seed(seed)
    for name, metric in metrics.items():
        if isinstance(metric, SeededSubsets):
            metric.generator = generator
        try:
            with section(f"metric:{name}"):
                value = metric.compute()
        except torch.linalg.LinAlgError:
            if name != "fid":
                raise
            with section(f"metric:{name}"):
                value = fid_from_symmetric_roots(metric)
        finally:
            if isinstance(metric, SeededSubsets):
                metric.generator = None
        for key, v in zip(keys(name, n_fake), REGISTRY[name].result(value)):
            out[key] = v if isinstance(v, int) else float(v)
    return out
