"""A metrics pass owns no global RNG stream: KID / IS draw their subsets from a generator of
their own, seeded with the protocol's seed, and leave the CPU and CUDA streams alone."""

from __future__ import annotations

import torch
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance

from lit_gan.callbacks.generative_metrics import GenerativeMetrics
from lit_gan.evaluation import registry
from lit_gan.metrics.extractors import Features
from lit_gan.metrics.scores import IS_SPLITS, PassThrough
from tests.callbacks.test_generative_metrics import fit, logged
from tests.metrics.helpers import write_tiny_extractor
from tests.rng_helpers import seeding_calls  # noqa: F401 (fixture)

N, DIM, CLASSES = 40, 6, 4


def features(seed: int) -> tuple[Features, Features]:
    g = torch.Generator().manual_seed(seed)
    real = Features(torch.randn(N, DIM, generator=g), torch.randn(N, CLASSES, generator=g))
    fake = Features(torch.randn(N, DIM, generator=g) + 0.3, torch.randn(N, CLASSES, generator=g))
    return real, fake


def kid_and_is(seed: int) -> dict[str, float]:
    metrics = registry.build(["kid", "is"], registry.FeatureContext(DIM, CLASSES, N, N, kid_subsets=4,
                                                                     kid_subset_size=10))
    real, fake = features(1)
    registry.update(metrics, real, real=True)
    registry.update(metrics, fake, real=False)
    return registry.compute(metrics, N, seed)


def test_compute_neither_seeds_nor_reads_the_global_streams(seeding_calls):  # noqa: F811
    torch.manual_seed(123)
    seeding_calls.clear()
    before = torch.get_rng_state()
    kid_and_is(seed=0)
    assert seeding_calls == []
    assert torch.equal(torch.get_rng_state(), before)


def test_kid_and_is_are_today_s_values_and_a_function_of_the_seed():
    # what torchmetrics' own KID then IS gave after torch.manual_seed(seed) on the CPU stream
    real, fake = features(1)
    kid = KernelInceptionDistance(feature=PassThrough(DIM), subsets=4, subset_size=10)
    inception = InceptionScore(feature=PassThrough(CLASSES), splits=IS_SPLITS)
    kid.update(real.pool, real=True)
    kid.update(fake.pool, real=False)
    inception.update(fake.logits)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        expected = [float(v) for v in (*kid.compute(), *inception.compute())]
    got = kid_and_is(seed=5)
    assert [got["kid_40"], got["kid_40_std"], got["is_40"], got["is_40_std"]] == expected
    torch.manual_seed(99)  # the global stream's state plays no part
    assert kid_and_is(seed=5) == got
    assert kid_and_is(seed=6)["kid_40"] != got["kid_40"]


def test_a_metrics_pass_during_fit_leaves_every_global_stream(tmp_path, tiny_mnist, monkeypatch,
                                                           seeding_calls):  # noqa: F811
    passes = []
    compute = GenerativeMetrics.compute

    def checked(self, trainer, pl_module):
        seeding_calls.clear()
        cpu = torch.get_rng_state()
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
        out = compute(self, trainer, pl_module)
        after = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
        passes.append((list(seeding_calls), torch.equal(torch.get_rng_state(), cpu),
                       all(torch.equal(a, b) for a, b in zip(cuda, after))))
        return out

    monkeypatch.setattr(GenerativeMetrics, "compute", checked)
    callback = GenerativeMetrics(metrics=["kid", "is"], feature_extractor=str(write_tiny_extractor(tmp_path / "x.pt2")),
                                 num_samples=32, every_n_epochs=0, every_n_iterations=2, kid_subsets=3,
                                 kid_subset_size=10, cache_dir=str(tmp_path / "cache"), progress=False)
    _, _, rows = fit(tmp_path, tiny_mnist, callback, iterations=3)
    assert len(logged(rows, "val/kid_32")) == 2 and logged(rows, "val/is_32")  # iteration 2 and the end
    assert passes == [([], True, True)] * 2
