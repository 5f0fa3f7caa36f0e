"""The `medic bench KIND` commands.

Each module exposes ``register(subparsers)`` and is listed under the "medic.bench" entry points.
"""
