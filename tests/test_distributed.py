"""lit_gan.distributed: the one-process identities, the helpers under 2 gloo ranks, and
that it stays the only module talking to torch.distributed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lit_gan import distributed
from tests.import_graph import imported_modules
from tests.ranks import run_ranks

PACKAGE = Path(__file__).resolve().parents[1] / "lit_gan"


def test_one_process_identities():
    assert distributed.world() == (0, 1) and not distributed.initialized()
    assert distributed.rank_zero_decides(lambda: 7) == 7
    assert distributed.any_rank(True) and not distributed.any_rank(False)
    assert distributed.all_gather_object({"a": 1}) == [{"a": 1}]
    t = torch.arange(6).view(3, 2)
    assert distributed.gather_rows(t) is t and distributed.max_over_ranks(t) is t and distributed.sum_over_ranks(t) is t
    assert distributed.collective_device() == torch.device("cpu")
    distributed.close()  # no group: nothing to do
    with pytest.raises(KeyError):
        distributed.rank_zero_decides(lambda: {}["missing"])


HELPERS = """
import json
from lit_gan import distributed as d

calls = []
def decide():
    calls.append(rank)
    return {"path": f"chosen by rank {rank}"}

out = {"world": d.world(), "decided": d.rank_zero_decides(decide), "calls": calls,
       "any": [d.any_rank(rank == 1), d.any_rank(False)], "all": [d.all_ranks(rank == 1), d.all_ranks(True)],
       "objects": d.all_gather_object(rank * 10),
       "rows": d.gather_rows(torch.full((rank + 1, 2), float(rank))).tolist(),
       "max": d.max_over_ranks(torch.tensor([float(rank), 1.0 - rank])).tolist(),
       "sum": d.sum_over_ranks(torch.tensor([rank + 1, 10 * rank])).tolist()}
try:
    d.rank_zero_decides(lambda: 1 / 0)  # rank 0 fails: every rank raises, none waits
except ZeroDivisionError as err:
    out["error"] = str(err)
d.close()
open(f"{out_dir}/rank{rank}.json", "w").write(json.dumps(out))
"""


def test_helpers_under_two_ranks(tmp_path):
    results = run_ranks(HELPERS, tmp_path)
    assert all(code == 0 for code, _, _ in results), [err[-2000:] for _, _, err in results]
    import json

    outs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    for r, out in enumerate(outs):
        assert out["world"] == [r, 2]
        assert out["decided"] == {"path": "chosen by rank 0"}
        assert out["calls"] == ([0] if r == 0 else [])  # only rank 0 ran the decision
        assert out["any"] == [True, False] and out["all"] == [False, True]
        assert out["objects"] == [0, 10]
        assert out["rows"] == [[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
        assert out["max"] == [1.0, 1.0]
        assert out["sum"] == [3, 10]
        assert out["error"] == "division by zero"


def test_only_lit_gan_distributed_imports_torch_distributed():
    """One owner of the world query and the collectives; it is core (imports no other lit_gan
    module but errors), so any layer may use it."""
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p.name != "distributed.py" or p.parent != PACKAGE
                 if any(m == "torch.distributed" or m.startswith("torch.distributed.") for m in imported_modules(p))]
    assert not offenders, offenders
    own = {m for m in imported_modules(PACKAGE / "distributed.py") if m.startswith("lit_gan")}
    assert own <= {"lit_gan.errors"}, own
