"""Keep pytest out of the example projects: scenario repos, hidden checks and the shop's own suites
are run by examples/tests as subprocesses inside their own checkouts, never collected here."""

collect_ignore_glob = ["scenarios/*", "shop/*"]
