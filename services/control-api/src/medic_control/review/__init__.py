"""control-api: the weekly review — P4 issues and the week beside the seed's success targets."""
