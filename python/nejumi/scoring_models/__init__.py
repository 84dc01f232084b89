"""Scoring models: trained models that score benchmark outputs after generation (not LLM judges)."""
