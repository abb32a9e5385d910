"""The entity found by the detectors: a typed span of the input text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """An identifying detail at `text[start:end]` (Python indices, end exclusive)."""

    start: int
    end: int
    type: str
