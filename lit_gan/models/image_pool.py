"""The history of generated images CycleGAN's discriminators learn from.

Zhu et al. 2017, sec. 4 (after Shrivastava et al. 2017): D is updated with generated
images drawn from a buffer of the 50 most recently generated ones, not only the newest,
which damps oscillation. Each query image is returned as is until the buffer is full;
then, with probability 1/2, a random stored image is returned instead and the new one
takes its place. Draws come from torch's global RNG, which checkpoints already carry
(lit_gan.models.rng); the stored images go into the checkpoint too, so a resume is exact.
The history follows the device and dtype of the images it is queried with: Lightning restores
a checkpoint before the strategy moves the model, so a resumed pool starts on the CPU.
"""

from __future__ import annotations

import torch
from torch import Tensor

POOL_SIZE = 50  # Zhu et al. 2017, sec. 4


class ImagePool:
    def __init__(self, size: int = POOL_SIZE) -> None:
        if size < 0:
            raise ValueError(f"pool size must be >= 0 (0 disables the history), got {size}")
        self.size = size
        self.images: list[Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: Tensor) -> Tensor:
        """A batch for D: per image, the new one or (once full, half the time) a stored one."""
        if self.size == 0:
            return images
        if self.images and (self.images[0].device, self.images[0].dtype) != (images.device, images.dtype):
            self.images = [image.to(images) for image in self.images]  # once, after a resume or a move
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()) < 0.5:  # cpu: a coin flip read on the host (history images stay on their device)
                slot = int(torch.randint(len(self.images), ()))  # cpu: a slot index read on the host
                out.append(self.images[slot].clone())
                self.images[slot] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        stored = torch.stack(self.images).cpu() if self.images else torch.empty(0)  # cpu: an empty pool's saved state
        return {"size": self.size, "images": stored}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        if state["size"] != self.size:
            raise ValueError(f"checkpoint pool holds up to {state['size']} images, this model {self.size}")
        self.images = [image.to(device) for image in state["images"]] if state["images"].numel() else []
