"""TLS for tests: a throw-away CA and server certificate, and a real Tansu broker behind a TLS-terminating proxy.

The bundled Tansu cannot serve TLS itself (see ``libs/runtime/tests/test_kafka_security.py``), so the proxy
terminates TLS and forwards to it; the broker advertises the proxy, so every client connection is TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

from medic_runtime.embedded import die_with_parent, free_port, tansu_binary

__all__ = ["make_pki", "tls_broker"]


def make_pki(root: Path) -> dict[str, Path]:
    """A test CA and a server certificate for localhost / 127.0.0.1 signed by it (openssl), in ``root``."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=root, check=True, capture_output=True, timeout=60)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=medic test CA",
    )
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (root / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
            "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    (root / "not-a-ca.pem").write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    return {name: root / name for name in ("ca.crt", "server.crt", "server.key", "not-a-ca.pem")}


@contextlib.asynccontextmanager
async def tls_broker(pki: dict[str, Path]) -> AsyncIterator[tuple[str, list[str]]]:
    """A real Tansu broker behind a TLS-terminating proxy it advertises; yields (bootstrap, TLS peers seen)."""
    broker_port, proxy_port = free_port(), free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - starts the broker beside the test and returns at once
        [tansu_binary(), "broker", "--listener-url", f"tcp://127.0.0.1:{broker_port}",
         "--advertised-listener-url", f"tcp://localhost:{proxy_port}", "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent,  # noqa: PLW1509
    )  # fmt: skip
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(pki["server.crt"], pki["server.key"])
    peers: list[str] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        peers.append(str(client_w.get_extra_info("ssl_object").version()))  # the handshake is done when we are called
        upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", broker_port)
        await asyncio.gather(pipe(client_r, upstream_w), pipe(upstream_r, client_w))

    proxy = await asyncio.start_server(handle, "127.0.0.1", proxy_port, ssl=server_ctx)
    try:
        # Not wait_for_broker: its metadata sends a plaintext client on to the TLS proxy.
        for _ in range(300):
            with contextlib.suppress(OSError):
                _, probe = await asyncio.open_connection("127.0.0.1", broker_port)
                probe.close()
                break
            await asyncio.sleep(0.1)
        yield f"localhost:{proxy_port}", peers
    finally:
        proxy.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
