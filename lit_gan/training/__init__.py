"""What keeps a training run honest: divergence checks and preemption (signal) handling."""
