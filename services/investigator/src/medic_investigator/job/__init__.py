"""The investigator's job, one module per step: frames, culprit, callees, history, investigate, diagnose.

Slow-query issues take their own job (``slow_query``). Steps do I/O only through ``adapters``
and leave every decision to ``domain``; the worker emits what the job returns.
"""
