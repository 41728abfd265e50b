"""Arithmetic on measured figures that every report of the harness shares."""

from typing import Optional


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    """a / b, or None when either figure is missing or b is zero."""
    return a / b if a is not None and b else None
