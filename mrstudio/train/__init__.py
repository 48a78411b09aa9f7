"""Training: datasets, losses, loop (single process or DDP), checkpoints."""
