"""One module per benchmark; each exposes ``register(subparsers)`` (see :mod:`medic.commands.bench`)."""
