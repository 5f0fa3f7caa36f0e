"""External systems behind small interfaces: the run store, forges, deployers, sources, notifiers."""
