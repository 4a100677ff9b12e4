"""Sample-quality metrics: FID / KID / IS with their protocol, class coverage, Parzen window,
mode coverage for 2-D data. lit_gan.evaluation (the registry, sources and the library call) puts them to use."""
