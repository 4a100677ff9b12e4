"""Metrics on the accelerator: features stay on the extractor's device (float64; float32 where
the device has none, MPS), every registry metric computes there, and the values equal the CPU's.

No GPU here: the 'meta' device stands in for one (it carries device and dtype, no values), and
MPS is simulated by adding 'cpu' to lit_gan.metrics.device.NO_FLOAT64. On a machine with CUDA
or MPS the value test also runs there.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lit_gan.evaluation import registry
from lit_gan.evaluation.features import Evaluator, Protocol
from lit_gan.evaluation.parzen import parzen_on_points
from lit_gan.metrics import device as metric_device
from lit_gan.metrics.conditional import IntraFID
from lit_gan.metrics.extractors import FeatureExtractor, Features
from lit_gan.metrics.parzen import flatten_unit
from lit_gan.metrics.prdc import prdc
from lit_gan.metrics.reference_cache import ReferenceCache
from lit_gan.metrics.scores import PassThrough
from lit_gan.metrics.seeded import SeededKID
from tests.dtype_helpers import Float64Ops

CLASSES, DIM = 3, 6
ALL_FEATURE_METRICS = list(registry.FEATURE_METRICS)


class Tiny(nn.Module):
    """(N, 1, 4, 4) in [-1, 1] -> (features (N, DIM), logits (N, CLASSES)), weights from its own generator."""

    def __init__(self, device: str = "cpu") -> None:
        super().__init__()
        self.body = nn.Linear(16, DIM, device=device)
        self.head = nn.Linear(DIM, CLASSES, device=device)
        if device != "meta":
            g = torch.Generator().manual_seed(0)
            with torch.no_grad():
                for p in self.parameters():
                    p.copy_(torch.randn(p.shape, generator=g))  # cpu: test weights, copied onto the module

    def forward(self, x):
        f = torch.tanh(self.body(x.flatten(1)))
        return f, self.head(f)


def extractor(device: str = "cpu") -> FeatureExtractor:
    meta = {"num_classes": CLASSES, "class_names": [str(c) for c in range(CLASSES)]}
    return FeatureExtractor(Tiny(device), "tiny", "0" * 64, (1, 4, 4), takes_uint8=False, meta=meta, device=device)


def images(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, 4, 4), dtype=torch.uint8, generator=g)  # cpu: test data


def labels(n: int) -> torch.Tensor:
    return torch.arange(n) % CLASSES  # cpu: test labels, as a datamodule gives them


class NoCache(ReferenceCache):
    def load(self, key, label):
        return None

    def save(self, key, label, features, parts):
        return None


def run_evaluator(ext: FeatureExtractor, cache: ReferenceCache, n: int = 24, metrics=ALL_FEATURE_METRICS):
    protocol = Protocol(list(metrics), n, None, "test", 0, 8, kid_subsets=3, kid_subset_size=6)
    evaluator = Evaluator(protocol, ext, cache, progress=False)
    real = images(n, 1)
    fake = images(n, 2)
    values = evaluator.evaluate(lambda rows: fake[rows.start : rows.stop].split(8), real, "tiny",
                                lambda rows: labels(n)[rows.start : rows.stop], labels(n), CLASSES)
    return evaluator, real, values


def tensors_of(metric) -> list[torch.Tensor]:
    found = []
    for name in metric._defaults:
        value = getattr(metric, name)
        found.extend(value if isinstance(value, list) else [value])
    return found


def test_every_registry_metric_gets_its_inputs_and_keeps_its_states_on_the_extractors_device(monkeypatch):
    """'meta' stands in for a GPU. Updates that need values (labels, bincount) record their
    inputs instead of running; the rest run for real on 'meta'."""
    seen: dict[str, list[tuple[torch.device, torch.dtype]]] = {}

    def recorder(name):
        def update(self, *args, **kwargs):
            seen.setdefault(name, []).extend((a.device, a.dtype) for a in args if isinstance(a, torch.Tensor))
        return update

    # these update paths read values (label checks, bincount): record what reaches them
    for name, cls in (("intra_fid", IntraFID), ("classes", registry.ClassCoverage),
                      ("accuracy", registry.ConditionalAccuracy)):
        monkeypatch.setattr(cls, "update", recorder(name))
    built: dict = {}
    monkeypatch.setattr(registry, "compute", lambda metrics, n, seed: built.update(metrics) or {})
    evaluator, real, _ = run_evaluator(extractor("meta"), NoCache())

    meta = torch.device("meta")
    assert set(built) == set(ALL_FEATURE_METRICS)
    for name, metric in built.items():
        states = tensors_of(metric)
        assert states and all(t.device == meta for t in states), name
        assert all(t.dtype == torch.float64 for t in states if t.is_floating_point()), name
        assert metric.device == meta, name
    assert len(built["kid"].real_features) and len(built["prdc"].fake_features)  # features arrived, on meta
    assert int(built["fid"].real_features_sum.shape[0]) == DIM
    for name in ("intra_fid", "classes"):  # real and generated features / logits, labels: all on meta
        assert seen[name] and all(d == meta for d, _ in seen[name]), name
        assert {t for _, t in seen[name]} <= {torch.float64, torch.int64}, name
    assert seen["accuracy"] and all(d == meta for d, _ in seen["accuracy"])
    reference = evaluator.reference(real, "tiny")  # kept between evaluations, on the device that made it
    assert reference.pool.device == meta and reference.logits.device == meta
    assert evaluator.card(real, "tiny")["features"] == {"device": "meta", "dtype": "float64"}


def test_cached_reference_features_are_stored_on_the_cpu_and_loaded_onto_the_device(tmp_path):
    cache = ReferenceCache(tmp_path)
    cpu = Evaluator(Protocol(["fid"], 8, None, "test", 0, 8), extractor("cpu"), cache, progress=False)
    real = images(8, 1)
    made = cpu.reference(real, "tiny")
    assert not cpu.last_cache_hit
    stored = torch.load(next(tmp_path.iterdir()), weights_only=True)
    assert stored["pool"].device.type == "cpu"
    on_meta = Evaluator(cpu.protocol, extractor("meta"), cache, progress=False)  # same weights file hash
    loaded = on_meta.reference(real, "tiny")
    assert on_meta.last_cache_hit
    assert loaded.pool.device.type == "meta" and loaded.logits.device.type == "meta"
    assert loaded.pool.dtype == made.pool.dtype == torch.float64


@pytest.fixture
def mps_like_cpu(monkeypatch):
    """The CPU treated as a device without float64, as MPS is."""
    monkeypatch.setattr(metric_device, "NO_FLOAT64", frozenset({"mps", "cpu"}))


def test_feature_dtype_is_float32_only_where_float64_is_missing():
    assert metric_device.feature_dtype("cpu") == torch.float64
    assert metric_device.feature_dtype("meta") == torch.float64
    assert metric_device.feature_dtype("mps") == torch.float32  # a name: no MPS device needed
    assert metric_device.card("mps") == {"device": "mps", "dtype": "float32"}


def test_without_float64_features_metrics_and_the_card_are_float32(mps_like_cpu, tmp_path):
    ext = extractor("cpu")
    assert ext(images(2, 0)).pool.dtype == torch.float32
    evaluator, real, values = run_evaluator(ext, ReferenceCache(tmp_path))
    assert set(values) >= {"fid_24", "kid_24", "precision_24", "intra_fid", "classes_kl", "accuracy", "is_24"}
    assert all(math.isfinite(v) for v in values.values())
    assert evaluator.card(real, "tiny")["features"] == {"device": "cpu", "dtype": "float32"}
    # float32 entries get keys of their own: a float64 run never loads them
    parts = evaluator.reference_parts(real, "tiny")
    assert parts["dtype"] == "torch.float32"
    assert "dtype" not in Evaluator(evaluator.protocol, extractor("meta"), NoCache()).reference_parts(real, "tiny")


def test_without_float64_no_metric_update_or_compute_makes_a_float64_tensor(mps_like_cpu):
    """Metrics are built on the CPU (their constructors may make float64 there) and placed;
    from then on nothing may make float64: on MPS it would raise."""
    ext = extractor("cpu")
    n = 24
    ctx = registry.FeatureContext(DIM, CLASSES, n, n, 3, 6, CLASSES)
    metrics = registry.build(ALL_FEATURE_METRICS, ctx)
    for metric in metrics.values():
        metric_device.place(metric, "cpu")
    real_u8, fake_u8 = images(n, 1), images(n, 2)
    with Float64Ops() as seen:
        real, fake = ext(real_u8), ext(fake_u8)
        registry.update(metrics, Features(real.pool, real.logits).to("cpu"), real=True, labels=labels(n))
        registry.update(metrics, fake, real=False, labels=labels(n))
        values = registry.compute(metrics, n, 0)
        samples, points = flatten_unit(fake_u8), flatten_unit(real_u8)
        mean, sem, sigma, _ = parzen_on_points(samples, points[:12], points[12:])
    assert seen.ops == []
    assert real.pool.dtype == torch.float32 and samples.dtype == torch.float32
    assert all(math.isfinite(v) for v in values.values()) and math.isfinite(mean) and math.isfinite(sem)


def devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


@pytest.mark.parametrize("device", devices())
def test_values_on_the_device_equal_the_cpu_references(device):
    """FID, KID, PRDC, intra-FID and Parzen of the same float64 CPU features: the references
    (torchmetrics' FID, the CPU metrics, fed as before this change) against the registry on
    ``device``. FID to 1e-6 relative (float32 on MPS: 1e-3)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    g = torch.Generator().manual_seed(3)
    n, d = 60, 8
    real = torch.randn(n, d, generator=g, dtype=torch.float64)  # cpu: test features
    fake = torch.randn(n, d, generator=g, dtype=torch.float64) * 1.2 + 0.3  # cpu: test features
    lab = labels(n)

    fid = FrechetInceptionDistance(feature=PassThrough(d))
    fid.update(real, real=True)
    fid.update(fake, real=False)
    kid = SeededKID(feature=PassThrough(d), subsets=4, subset_size=20)
    kid.update(real, real=True)
    kid.update(fake, real=False)
    kid.generator = torch.Generator().manual_seed(0)
    intra = IntraFID(CLASSES, d)
    intra.update(real, lab, real=True)
    intra.update(fake, lab, real=False)
    want = {"fid_60": float(fid.compute()), "kid_60": float(kid.compute()[0]), "intra_fid": float(intra.compute()[0]),
            **{f"{k}_60": float(v) for k, v in prdc(real, fake).items()}}
    unit = lambda x: torch.sigmoid(x)  # noqa: E731 -- points in [0, 1] for Parzen
    want_parzen = parzen_on_points(unit(fake), unit(real[:20]), unit(real[20:]))[:3]

    names = ["fid", "kid", "intra_fid", "prdc"]
    ctx = registry.FeatureContext(d, CLASSES, n, n, 4, 20, CLASSES)
    metrics = {k: metric_device.place(m, device) for k, m in registry.build(names, ctx).items()}
    registry.update(metrics, Features(real, None).to(device), real=True, labels=lab)
    registry.update(metrics, Features(fake, None).to(device), real=False, labels=lab)
    got = registry.compute(metrics, n, 0)
    assert all(t.device.type == device for m in metrics.values() for t in tensors_of(m))
    rel = 1e-6 if metric_device.feature_dtype(device) == torch.float64 else 1e-3
    assert {k: got[k] for k in want} == pytest.approx(want, rel=rel)
    to = lambda x: Features(unit(x), None).to(device).pool  # noqa: E731
    got_parzen = parzen_on_points(to(fake), to(real[:20]), to(real[20:]))[:3]
    assert got_parzen == pytest.approx(want_parzen, rel=rel)
