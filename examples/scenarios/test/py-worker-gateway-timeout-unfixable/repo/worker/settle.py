from worker.payments.gateway import capture


def settle(job: dict[str, str]) -> str:
    """Capture the job's payment; return its status."""
    return capture(job["payment_id"])["status"]
