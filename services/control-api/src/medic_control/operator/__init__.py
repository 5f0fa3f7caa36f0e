"""What the ``medic`` CLI's control-api commands do (the CLI modules in ``cli/src/medic/commands`` only parse arguments).

Every command but ``token create --database-url`` and ``audit … --database-url`` is a client of
the REST API. Exit status: 0 done, 1 refused or failed (the reason is printed), 2 usage.

- :mod:`.control`: status, pause, resume, scan, rollback, false-positive, review, approvals, approve, reject, issues;
- :mod:`.tokens`: token create (through the API, or straight into the store);
- :mod:`.audit`: audit head, verify, checkpoint.
"""
