"""The old home of ``GenerativeMetrics``, kept because saved configs name its class path
``lit_gan.metrics.callback.GenerativeMetrics``; the callback lives in
lit_gan.callbacks.generative_metrics and is imported here on first use only, so the
metrics package never loads the callbacks layer above it."""


def __getattr__(name: str):
    if name == "GenerativeMetrics":
        from lit_gan.callbacks.generative_metrics import GenerativeMetrics

        return GenerativeMetrics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
