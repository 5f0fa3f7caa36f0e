"""Releaser test support: a real target repository and app (:mod:`.harness`) and the fault helpers (:mod:`.faults`)."""
