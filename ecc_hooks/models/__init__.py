"""pydantic v2 models of every JSON document ecc-hooks writes (daemon and CLI tier, never the hot path)."""

from pydantic import BaseModel, ConfigDict


class OpenModel(BaseModel):
    """A contract object that keeps fields it does not know: producers and consumers may add some."""

    model_config = ConfigDict(extra="allow")
