"""The one strict pydantic base every model of the package derives from.

Unknown keys are errors (a typo in a scenario, a plugin's parameters, a
request body or a Shadow/legacy config names the field instead of being
ignored). Subclasses add their own settings (``allow_inf_nan``, ``frozen``,
``validate_assignment``); pydantic merges them with this one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


__all__ = ["StrictModel"]
