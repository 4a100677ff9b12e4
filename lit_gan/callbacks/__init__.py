"""Callbacks: what a run shows a person (sample grids, scatter plots, interpolations)."""
