"""Tumour evolution: virtual patients with known truth (and, later, therapy simulation engines)."""

from __future__ import annotations

from ithkit.evolution.virtual_patient import VirtualPatient, virtual_patient

__all__ = ["VirtualPatient", "virtual_patient"]
