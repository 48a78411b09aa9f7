"""Torch network modules only (no data loading, no training logic)."""
