"""External systems behind small interfaces: error/log/metric sources and the watcher's store."""
