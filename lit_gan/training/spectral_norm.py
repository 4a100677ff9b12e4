"""Spectral normalisation of a discriminator (Miyato et al. 2018, "Spectral Normalization for
Generative Adversarial Networks", arXiv:1802.05957): every weight W is used as W / sigma(W),
sigma the largest singular value, estimated by power iteration with its vector u kept between
steps (Alg. 1; one iteration per training step is enough, sec. 2.1). Each layer is then
1-Lipschitz, and so is D with 1-Lipschitz activations (ReLU, LeakyReLU, max).

``spectral_normalize`` applies ``torch.nn.utils.parametrizations.spectral_norm`` to every
convolution (1-3-D), transposed convolution (its weight is (in, out, ...), so the matrix is
taken along dim 1, which torch's spectral_norm picks for it), linear layer and embedding
(the projection discriminator's SNEmbedID, Miyato & Koyama 2018). Layers already spectrally
normalised (the projection head's) are left as they are.

Refused, in one line each:
- no layer to normalise (nothing would change);
- BatchNorm: it divides by the batch's standard deviation and rescales by a learned gamma,
  which undoes the bound; SN-GAN's discriminators have none (Miyato et al. 2018, Tables 3-4).
  ``allow_batch_norm=True`` keeps it for someone who wants the combination anyway;
- a module with its own weights that spectral_norm does not cover (e.g. minibatch
  discrimination's tensor T): the bound would silently not hold for it.
Per-sample norms (LayerNorm, GroupNorm, InstanceNorm) are kept: they couple no samples; their
affine scale is not normalised.

The parametrised weights live in ``parametrizations.weight.original`` (with ``_u`` and ``_v``
buffers) in the state dict, so a checkpoint of a normalised net loads only into a normalised
net: normalise before loading.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from lit_gan.errors import SettingError

N_POWER_ITERATIONS = 1  # Miyato et al. 2018, Alg. 1 and sec. 2.1: one power iteration per update

NORMALISED_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                     nn.ConvTranspose3d, nn.Linear, nn.Embedding)
PER_SAMPLE_NORMS = (nn.LayerNorm, nn.GroupNorm, nn.modules.instancenorm._InstanceNorm)


def is_spectrally_normalised(module: nn.Module) -> bool:
    """True when ``module.weight`` goes through torch's spectral-norm parametrisation."""
    if not parametrize.is_parametrized(module, "weight"):
        return False
    return any(type(p).__name__ == "_SpectralNorm" for p in module.parametrizations.weight)


def spectral_normalize(module: nn.Module, name: str = "discriminator", *,
                       n_power_iterations: int = N_POWER_ITERATIONS, allow_batch_norm: bool = False) -> nn.Module:
    """Spectrally normalise every conv / linear / embedding weight of ``module`` in place; returns it."""
    batch_norms = [n for n, m in module.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if batch_norms and not allow_batch_norm:
        raise SettingError(
            f"spectral norm on the {name!r} net with BatchNorm at {batch_norms}: BatchNorm rescales by the batch's "
            "standard deviation and undoes the bound (SN-GAN's D has none); set its norm to 'none' (or 'layer')")
    covered = (*NORMALISED_LAYERS, *PER_SAMPLE_NORMS, nn.modules.batchnorm._BatchNorm,
               parametrize.ParametrizationList)  # the last: a parametrised weight's own storage
    uncovered = [n or type(module).__name__ for n, m in module.named_modules()
                 if not isinstance(m, covered) and any(True for _ in m.parameters(recurse=False))]
    if uncovered:
        raise SettingError(
            f"spectral norm cannot bound the {name!r} net: {uncovered} hold weights that are not a conv, linear or "
            "embedding layer (e.g. minibatch discrimination); turn that option off or spectral norm off")
    layers = [m for m in module.modules() if isinstance(m, NORMALISED_LAYERS)]
    if not layers:
        raise SettingError(f"spectral norm: the {name!r} net has no conv, linear or embedding layer to normalise")
    for layer in layers:
        if not is_spectrally_normalised(layer):
            spectral_norm(layer, n_power_iterations=n_power_iterations)
    return module
