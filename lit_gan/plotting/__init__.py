"""Drawing with matplotlib's object API (never pyplot): figures that callbacks, reproduce and
latent arithmetic save as PNG files."""
