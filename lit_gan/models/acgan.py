"""AC-GAN (Odena et al. 2017, "Conditional Image Synthesis With Auxiliary Classifier GANs"),
and its two known fixes for within-class collapse as the ``classifier`` option.

Sec. 3: every generated sample has a class c ~ p_c and X_fake = G(c, z); D gives both
P(S | X) and P(C | X). With

    L_S = E[log P(S = real | X_real)] + E[log P(S = fake | X_fake)]
    L_C = E[log P(C = c | X_real)] + E[log P(C = c | X_fake)]

"D is trained to maximize L_S + L_C while G is trained to maximize L_C - L_S".

As losses to minimise, with adv the chosen objective (lit_gan.losses; ``minimax`` is the
paper's -L_S for G, ``non_saturating`` the default), w = ``class_loss_weight`` and CE the
class cross-entropy (fakes x~ = G(z, y~)):

- ``ac`` (Odena et al. 2017): D: adv + w (CE(C(x), y) + CE(C(x~), y~)); G: adv_G + w CE(C(x~), y~).
- ``tac`` (Gong et al. 2019, "Twin Auxiliary Classifiers GAN", NeurIPS): a twin head C^mi on
  D's trunk. D: adv + w (CE(C(x), y) + CE(C^mi(x~), y~)): C learns the real data only, the
  twin the fakes only; G: adv_G + w (CE(C(x~), y~) - CE(C^mi(x~), y~)). The minus is G
  maximising the twin's error, which estimates the mutual information of x~ and y~ that
  AC-GAN's term alone minimises (the cause of within-class collapse, per the paper).
- ``adc`` (Hou et al. 2022, "Conditional GANs with Auxiliary Discriminative Classifier",
  ICML): one head over 2K classes, the first K "real class y", the last K "fake class y".
  D: adv + w (CE_2K(x -> y) + CE_2K(x~ -> K + y~)); G: adv_G + w (CE_2K(x~ -> y~) -
  CE_2K(x~ -> K + y~)), both terms on the same 2K-way softmax.

What was checked: the papers' abstracts (their equations could not be read here) and two
public implementations. PyTorch-StudioGAN (src/worker.py): D adds cond_loss(real) plus,
for TAC, cond_loss_mi(fake), for ADC cond_loss(fake, adc_fake=True); G adds
cond_loss(fake) minus cond_loss_mi(fake) (TAC) or minus the adc_fake cross-entropy (ADC);
its ADC head has 2K outputs with real class y at 2y and fake at 2y + 1, a relabelling of
our y and K + y that gives the same losses. StudioGAN's classifier-based D learns C on real
images only, as here for tac and adc. The UAC-GAN authors' re-implementation of TAC
(phymhan/ACGAN-PyTorch, main.py) also trains C on the fakes in D's step (the AC-GAN term);
we follow StudioGAN (C on reals, C^mi on fakes). TAC's official code (batmanlab/twin_ac)
was not available to check here.

Logged besides GAN's keys (D's step, unweighted): ``train/loss_class_real`` (C on real
images, every classifier); ``ac``: ``train/loss_class_fake`` (C on fakes); ``tac``:
``train/loss_class_twin`` (C^mi on fakes); ``adc``: ``train/loss_class_fake_as_fake``
(fakes -> K + y~). G's step, tac / adc: ``train/loss_class_g``, its class term unweighted.
``val/class_accuracy_real``: the real-data classifier C on held-out real images (adc: the
argmax over the first K outputs, the real classes).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from lit_gan.models.conditional import ConditionalDCGAN
from lit_gan.nets.conditional import ACGAN_DISCRIMINATORS
from lit_gan.nets.conditional_heads import ClassifierName, check_classifier

ACGANDiscriminatorName = ACGAN_DISCRIMINATORS.names()


class ACGAN(ConditionalDCGAN):
    """Odena et al. 2017 on the DCGAN layout: G reads concat(z, embedding(c)), D is the DCGAN
    trunk with a source head and a class head (lit_gan.nets.conditional_heads).

    Optimiser: Adam(2e-4, beta1 0.5, beta2 0.999) and z ~ N(0, I) of 100 dims, DCGAN's values;
    we recall the paper's appendix tables giving the same Adam settings for CIFAR-10 but could
    not check them here. Their nets (larger, with dropout in D) are not reproduced.
    """

    discriminator_names = ACGAN_DISCRIMINATORS

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 32, 32),
        class_loss_weight: float = 1.0,  # sec. 3: L_S + L_C, unweighted
        discriminator: ACGANDiscriminatorName = "acgan",
        classifier: ClassifierName = "ac",
        **kwargs: Any,
    ) -> None:
        """
        Args:
            class_loss_weight: w of the class terms (1 in all three papers' defaults here).
            classifier: ``ac`` (Odena et al. 2017), ``tac`` (twin classifier, Gong et al. 2019)
                or ``adc`` (2K-class discriminative classifier, Hou et al. 2022); see the module.
                D gets the matching head (discriminator option ``classifier``, set from here).
        """
        if not class_loss_weight >= 0:
            raise ValueError(f"class_loss_weight must be >= 0, got {class_loss_weight} (the paper's is 1)")
        check_classifier(classifier)
        self.class_loss_weight, self.classifier = class_loss_weight, classifier
        super().__init__(data_shape=data_shape, discriminator=discriminator, **kwargs)

    def build_nets(self, generator: str, discriminator: str, generator_options: dict[str, Any],
                   discriminator_options: dict[str, Any]) -> tuple[nn.Module, nn.Module]:
        if "classifier" in discriminator_options:
            raise ValueError("discriminator_options.classifier is set by the model: remove it and set "
                             "model.init_args.classifier (ac, tac or adc) instead")
        if self.classifier != "ac":  # "ac": the options (and so the net) exactly as before the option existed
            discriminator_options = {**discriminator_options, "classifier": self.classifier}
        return super().build_nets(generator, discriminator, generator_options, discriminator_options)

    def critic(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return self.discriminator(x)  # D reads the image only: (source logits, class logits)

    def real_class_logits(self, cls: Tensor) -> Tensor:
        return cls if self.classifier == "ac" else cls[:, : self.num_classes]  # tac: C; adc: the real classes

    def class_loss_d(self, real_cls: Tensor, labels: Tensor, fake_cls: Tensor, fake_labels: Tensor,
                     logs: dict[str, Tensor]) -> Tensor:
        k = self.num_classes
        if self.classifier == "tac":
            real_ce, fake_ce = F.cross_entropy(real_cls[:, :k], labels), F.cross_entropy(fake_cls[:, k:], fake_labels)
            logs["train/loss_class_real"], logs["train/loss_class_twin"] = real_ce, fake_ce
        elif self.classifier == "adc":
            real_ce, fake_ce = F.cross_entropy(real_cls, labels), F.cross_entropy(fake_cls, fake_labels + k)
            logs["train/loss_class_real"], logs["train/loss_class_fake_as_fake"] = real_ce, fake_ce
        else:
            real_ce, fake_ce = F.cross_entropy(real_cls, labels), F.cross_entropy(fake_cls, fake_labels)
            logs["train/loss_class_real"], logs["train/loss_class_fake"] = real_ce, fake_ce
        return self.class_loss_weight * (real_ce + fake_ce)

    def class_loss_g(self, fake_cls: Tensor, fake_labels: Tensor, logs: dict[str, Tensor]) -> Tensor:
        k = self.num_classes
        if self.classifier == "ac":
            return self.class_loss_weight * F.cross_entropy(fake_cls, fake_labels)
        if self.classifier == "tac":  # C's error down, the twin's up
            term = F.cross_entropy(fake_cls[:, :k], fake_labels) - F.cross_entropy(fake_cls[:, k:], fake_labels)
        else:  # adc: "real class y" up, "fake class y" down, on one 2K-way softmax
            term = F.cross_entropy(fake_cls, fake_labels) - F.cross_entropy(fake_cls, fake_labels + k)
        logs["train/loss_class_g"] = term
        return self.class_loss_weight * term
