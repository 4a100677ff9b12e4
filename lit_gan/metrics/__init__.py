"""Sample-quality metrics: FID / KID / IS with their protocol, class coverage, Parzen window,
mode coverage for 2-D data. See lit_gan.metrics.evaluation for how they fit together."""
