import socket


class GatewayTimeout(TimeoutError):
    pass


def capture(payment_id: str, *, timeout_s: float = 0.001) -> dict[str, str]:
    """Capture an authorised payment at the provider."""
    if payment_id.startswith("pay_slow"):
        raise GatewayTimeout(f"provider did not answer within {timeout_s}s (capture {payment_id})")
    return {"payment_id": payment_id, "status": "captured"}
