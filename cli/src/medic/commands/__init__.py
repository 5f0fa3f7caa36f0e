"""One module per command; each exposes ``register(subparsers)`` and sets ``handler`` on its parser."""
