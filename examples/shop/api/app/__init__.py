"""Shop API service (run with ``python -m uvicorn app.main:app``)."""
