"""One person's data (spec ``subject.md``): the access package and the erasure plan.

linkage.py finds the records, assessment.py judges each one against the policy, documents.py
writes them; run.py is the command's one entry point.
"""

from privacy_audit.subject.run import SubjectRun, run_subject

__all__ = ["SubjectRun", "run_subject"]
