"""The PII evaluation's corpus, hard cases and report (run by `scripts/evaluate_pii.py`, `make eval-pii`)."""
