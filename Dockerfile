# lit_gan for a CUDA GPU box.
#   docker build -t lit_gan .
#   docker build --build-arg BAKE_INCEPTION=1 -t lit_gan .    # Inception weights inside (needs internet at build)
#   docker run --gpus all --ipc=host -v "$PWD/data:/workspace/data" -v "$PWD/runs:/workspace/runs" \
#       -v lit_gan_cache:/home/gan/.cache lit_gan fit --config experiments/radford2015/dcgan_mnist.yaml
# The base image brings CUDA and a torch build that satisfies pyproject.toml's floors
# (tests/test_docker.py checks both); pip keeps that torch and adds the rest.
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TORCH_HOME=/home/gan/.cache/torch \
    LIT_GAN_CACHE=/home/gan/.cache/lit_gan \
    LIT_GAN_INCEPTION_WEIGHTS=/opt/lit_gan/weights-inception-2015-12-05-6726825d.pth

RUN useradd --create-home --uid 1000 gan \
    && mkdir -p /workspace/data /workspace/runs /opt/lit_gan /home/gan/.cache \
    && chown -R gan:gan /workspace /opt/lit_gan /home/gan/.cache

WORKDIR /workspace
COPY --chown=gan:gan pyproject.toml README.md ./
COPY --chown=gan:gan lit_gan ./lit_gan
COPY --chown=gan:gan experiments ./experiments
RUN pip install --no-cache-dir .

USER 1000:1000

# Metrics run offline when the weights are baked in: --build-arg BAKE_INCEPTION=1.
# They live outside the cache volume, so mounting a volume there cannot hide them.
ARG BAKE_INCEPTION=0
RUN if [ "$BAKE_INCEPTION" = "1" ]; then \
        python -c "import os; from lit_gan.metrics.inception import download_weights; print(download_weights(os.environ['LIT_GAN_INCEPTION_WEIGHTS']))"; \
    fi

VOLUME ["/workspace/data", "/workspace/runs", "/home/gan/.cache"]
ENTRYPOINT ["python", "-m", "lit_gan"]
CMD ["--help"]
