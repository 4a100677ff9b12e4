"""Callbacks: what a run shows a person and checks (sample grids, scatter plots, interpolations, GenerativeMetrics, ModeCoverage, divergence and preemption)."""
