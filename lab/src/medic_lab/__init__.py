"""Medic's lab: the benchmarks behind ``medic bench`` and their scorers (DESIGN.md §8).

Product packages never import this package; it imports them (the watcher's grouping and
anomaly detection) and scores them on public labelled data given as arguments.
"""
