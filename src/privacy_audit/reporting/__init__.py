"""What the reports show: compliance sections, charts, policy text, and the papermill runner.

Notebooks under ``notebooks/`` only call these functions, so everything a report computes is
tested without a kernel.
"""
