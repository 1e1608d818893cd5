"""Benchmarks: each module measures one concern against baselines measured in the same run."""
