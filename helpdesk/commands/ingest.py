"""Placeholder module; its commands are added next."""
