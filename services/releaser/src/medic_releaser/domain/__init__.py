"""Pure release logic: runs, the gate, canary analysis, fingerprints and notices (no I/O)."""
