"""Evaluation: the hand-written QA set, its fact gate, metrics, reports, and the naive baseline."""
