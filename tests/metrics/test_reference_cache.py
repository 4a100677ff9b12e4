"""The reference-feature cache: what counts as a miss, and one decision for all ranks."""

from __future__ import annotations

import json

import pytest
import torch

from lit_gan.evaluation.features import Evaluator, Protocol
from lit_gan.metrics.extractors import Features, load_extractor
from lit_gan.metrics.reference_cache import ReferenceCache
from tests.metrics.helpers import write_tiny_extractor
from tests.ranks import run_ranks


@pytest.mark.parametrize("content", [b"", b"damaged", b"hello world\n", None])
def test_missing_or_damaged_entries_are_misses(tmp_path, content):
    cache = ReferenceCache(tmp_path)
    if content is not None:
        cache.path("k" * 64, "x").write_bytes(content)
    assert cache.load("k" * 64, "x") is None


def test_an_entry_of_another_shape_is_a_miss(tmp_path):
    cache = ReferenceCache(tmp_path)
    torch.save([1, 2], cache.path("k" * 64, "x"))
    assert cache.load("k" * 64, "x") is None


def test_an_unreadable_cache_is_an_error_not_a_miss(tmp_path, monkeypatch):
    """A permission error (or a failing disk) must surface: silently recomputing would hide it
    on every run (and rank 0's save would then fail anyway)."""
    cache = ReferenceCache(tmp_path)
    cache.save("k" * 64, "x", Features(torch.zeros(2, 3), None), {})

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(cache.path("k" * 64, "x")))

    monkeypatch.setattr(torch, "load", denied)
    with pytest.raises(PermissionError):
        cache.load("k" * 64, "x")


WORKER = """
import json
from lit_gan.evaluation.features import Evaluator, Protocol
from lit_gan.metrics.extractors import load_extractor
from lit_gan.metrics.reference_cache import ReferenceCache

real = torch.load(out_dir + "/real.pt")
evaluator = Evaluator(Protocol(["fid"], num_samples=40, batch_size=16), load_extractor(out_dir + "/tiny.pt2"),
                      ReferenceCache(f"{out_dir}/cache{rank}"), progress=False)  # node-local caches
values = evaluator.evaluate(lambda rows: real.flip(-1)[rows.start:rows.stop].split(16), real, "tiny")
open(f"{out_dir}/rank{rank}.json", "w").write(json.dumps({"values": values, "hit": evaluator.last_cache_hit}))
"""


@pytest.mark.parametrize("holder", [0, 1])
def test_ranks_share_one_cache_decision(tmp_path, holder):
    """Only rank ``holder`` has the entry on its disk. Rank 0's answer holds for both: a hit
    (rank 0 has it) is sent to rank 1; a miss is computed by both together. A rank deciding
    alone skipped the collectives of the other, which then hung (or paired wrong ones)."""
    torch.manual_seed(0)
    real = torch.randint(0, 256, (60, 1, 28, 28), dtype=torch.uint8)
    torch.save(real, tmp_path / "real.pt")
    extractor = load_extractor(str(write_tiny_extractor(tmp_path / "tiny.pt2")))
    one = Evaluator(Protocol(["fid"], num_samples=40, batch_size=16), extractor,
                    ReferenceCache(tmp_path / f"cache{holder}"), progress=False)
    expected = one.evaluate(lambda rows: real.flip(-1)[rows.start:rows.stop].split(16), real, "tiny")
    assert not one.last_cache_hit and len(list((tmp_path / f"cache{holder}").glob("*.pt"))) == 1

    results = run_ranks(WORKER, tmp_path, timeout=60)
    assert all(code == 0 for code, _, _ in results), [err[-2000:] for _, _, err in results]
    outs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert outs[0] == outs[1]  # the same values and the same hit / miss on both ranks
    assert outs[0]["hit"] == (holder == 0)
    assert outs[0]["values"]["fid_40"] == pytest.approx(expected["fid_40"], rel=1e-5)
    assert len(list((tmp_path / "cache0").glob("*.pt"))) == 1  # a miss is saved by rank 0
