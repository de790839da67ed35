"""Planted violations and near misses, one module per rule family, and the truth they make."""

from __future__ import annotations

from privacy_audit.synth.background import Anchors
from privacy_audit.synth.plants import access, consent, minimization, notices, retention, rights, sharing
from privacy_audit.synth.plants.book import PlantBook


def plant_all(book: PlantBook, anchors: Anchors) -> None:
    """Add every family's plants to ``book``."""
    retention.plant(book)
    minimization.plant(book, anchors)
    rights.plant(book, anchors)
    consent.plant(book)
    sharing.plant(book)
    access.plant(book)
    notices.plant(book)
