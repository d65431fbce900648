"""pydantic v2 models of every JSON document ecc-hooks writes (daemon and CLI tier, never the hot path)."""
