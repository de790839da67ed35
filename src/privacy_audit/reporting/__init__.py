"""What the reports show, one subpackage per report and what they share.

``compliance/`` and ``trends/`` hold one function per notebook section; ``common/`` holds the
HTML fragments, charts, the personal-value scan and the papermill runner. Notebooks under
``notebooks/`` only call these functions, so everything a report computes is tested without a
kernel.
"""
