"""Inference providers: one narrow interface, several ways to reach a model."""
