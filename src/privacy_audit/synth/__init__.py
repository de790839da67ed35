"""The synthetic export generator behind ``privacy-audit generate``.

Read in this order: ``generate`` (orchestration, streaming writes, outputs), ``background``
(one chunk of clean partners), the per-domain modules it calls (``partners``, ``rights``,
``commerce``, ``support``, ``web``, ``messaging``, ``governance``, ``policies``), the helpers
they share (``timeline``, ``columns``, ``inforce``, ``pools``, ``catalog``, ``schemas``), and
``plants`` (violations and near misses with their ground truth, one module per rule family).
"""
