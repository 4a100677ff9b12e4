"""Evaluation as a library: one sampling protocol, one metric registry, one call.

    from lit_gan.evaluation import Protocol, evaluate, load_model
    from lit_gan.evaluation.sources import GeneratorSource

    model = load_model("runs/x/version_0/checkpoints/last.ckpt")
    values, card = evaluate(GeneratorSource(model, 10_000, seed=0), datamodule,
                            Protocol(["fid", "kid"], num_samples=10_000), extractor)

- sampling: the Sampler / Translator protocols, "sample i of seed s" (and its label)
- registry: every metric name -> what it needs, its keys, how it is computed
- sources: what is scored (a generator, a translator, a samples file)
- features: the feature-metric pass, real-feature cache, protocol card
- run: ``evaluate(source, datamodule, protocol) -> (values, card)``
- checkpoints, real, data_config: reading checkpoints, real splits and fit configs
"""

from lit_gan.evaluation.checkpoints import load_model
from lit_gan.evaluation.features import Protocol
from lit_gan.evaluation.run import evaluate

__all__ = ["Protocol", "evaluate", "load_model"]
