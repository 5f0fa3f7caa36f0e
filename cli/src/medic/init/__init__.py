"""``medic init``: a commented ``medic.toml`` for a repository, from what the repository says about itself."""
