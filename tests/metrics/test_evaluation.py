"""The evaluation pipeline: real images without padding, sharding, the reference cache."""

from __future__ import annotations

import pytest
import torch

from lit_gan.commands.generate import iter_samples
from lit_gan.conversion import to_uint8
from lit_gan.data import MNISTDataModule
from lit_gan.evaluation.features import Evaluator, Protocol
from lit_gan.evaluation.real import real_images
from lit_gan.evaluation.sources import GeneratorSource
from lit_gan.metrics.distributed import gather_rows, shard
from lit_gan.metrics.extractors import load_extractor
from lit_gan.metrics.reference_cache import ReferenceCache
from lit_gan.models import DCGAN
from tests.metrics.helpers import write_tiny_extractor


@pytest.fixture
def extractor(tmp_path):
    return load_extractor(str(write_tiny_extractor(tmp_path / "tiny.pt2")))


def datamodule(root, **kw) -> MNISTDataModule:
    dm = MNISTDataModule(root=str(root), val_size=64, **kw)
    dm.setup("fit")
    return dm


@pytest.mark.parametrize("n, world", [(10, 3), (10_000, 8), (7, 7), (5, 8)])
def test_shards_cover_every_item_once_in_order(n, world):
    shards = [shard(n, r, world) for r in range(world)]
    assert [i for s in shards for i in s] == list(range(n))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_gather_rows_is_identity_in_one_process():
    t = torch.arange(6).view(3, 2)
    assert torch.equal(gather_rows(t), t)


def test_real_images_are_the_split_itself_without_padding(tiny_mnist):
    dm = datamodule(tiny_mnist)
    images = real_images(dm, "test")
    assert images.dtype == torch.uint8 and images.shape == (64, 1, 28, 28)
    assert torch.equal(images, dm.test_set.images)  # every image once, in order, bit-exact
    assert torch.equal(real_images(dm, "val", limit=10), to_uint8(torch.stack([dm.val_set[i][0] for i in range(10)])))
    with pytest.raises(ValueError, match="only 64 images"):
        real_images(dm, "test", limit=65)
    with pytest.raises(ValueError, match="has no val split"):
        real_images(MNISTDataModule(root=str(tiny_mnist), val_size=0), "val")


def test_generated_images_are_compared_with_real_as_uint8(tiny_mnist, extractor, tmp_path):
    dm = datamodule(tiny_mnist)
    real = real_images(dm, "test")
    evaluator = Evaluator(Protocol(["fid", "kid"], num_samples=64, kid_subsets=5), extractor,
                          ReferenceCache(tmp_path / "cache"), progress=False)
    same = evaluator.evaluate(lambda rows: real[rows.start : rows.stop].split(10), real, "tiny")
    assert abs(same["fid_64"]) < 1e-6  # a set against itself
    other = evaluator.evaluate(lambda rows: real.flip(-1)[rows.start : rows.stop].split(10), real, "tiny")
    assert other["fid_64"] > 1e-3


def test_reference_cache_hit_and_key_change(tiny_mnist, extractor, tmp_path):
    cache = ReferenceCache(tmp_path / "cache")
    real28 = real_images(datamodule(tiny_mnist), "test")

    def reference(real, cache):
        evaluator = Evaluator(Protocol(["fid"], num_samples=8), extractor, cache, progress=False)
        return evaluator.reference(real, "tiny"), evaluator.last_cache_hit

    first, hit = reference(real28, cache)
    assert not hit and len(list(cache.root.glob("*.pt"))) == 1
    second, hit = reference(real28, cache)
    assert hit and torch.equal(first.pool, second.pool)
    # a changed transform (another image size) is another entry, not a stale hit
    real32 = real_images(datamodule(tiny_mnist, image_size=32), "test")
    _, hit = reference(real32, cache)
    assert not hit and len(list(cache.root.glob("*.pt"))) == 2
    # a damaged entry is recomputed, not trusted
    for path in cache.root.glob("*.pt"):
        path.write_bytes(b"damaged")
    again, hit = reference(real28, cache)
    assert not hit and torch.equal(again.pool, first.pool)


def test_generator_source_matches_generate_command(extractor):
    torch.manual_seed(0)
    model = DCGAN(data_shape=(1, 28, 28), latent_dim=8, generator_options={"features": 8},
                  discriminator_options={"features": 8}).eval()
    num = 1030  # crosses a noise chunk
    from_generate = torch.cat([to_uint8(b) for b in iter_samples(model, num, seed=5, batch_size=64, progress=False)])
    source = GeneratorSource(model, num, seed=5)
    whole = torch.cat(list(source.uint8_batches(range(num), 100)))
    assert torch.equal(whole, from_generate)
    parts = [torch.cat(list(source.uint8_batches(shard(num, r, 3), 100))) for r in range(3)]
    assert torch.equal(torch.cat(parts), whole)  # 3 ranks make the same samples as 1


def test_protocol_rejects_bad_choices():
    with pytest.raises(ValueError, match="unknown metrics"):
        Protocol(["fid", "precision"])
    with pytest.raises(ValueError, match="split"):
        Protocol(split="validation")
