"""Helpers shared by nejumi's tests."""
