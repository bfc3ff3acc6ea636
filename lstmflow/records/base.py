"""The base of every JSON document lstmflow writes and reads back (summary.json, backtest.json,
tune.json, a version's manifest): a pydantic model whose file keys are its fields.

Unknown keys are kept (`extra="allow"`): a file written by an older or newer lstmflow reads
back whole, and `to_json()` writes back what it read. Fields never set are left out of the
file, as the dict writers before them did, so a key's absence still means "did not happen"
(`skipped`, `attempts`, ...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """A typed JSON document: read with `read`/`from_json`, written with `write`/`to_json`."""

    model_config = ConfigDict(extra="allow", validate_assignment=True,
                              arbitrary_types_allowed=True)

    def to_json(self) -> dict[str, Any]:
        """The file's content as plain Python (non-JSON values become strings when written)."""
        return json.loads(json.dumps(self.model_dump(mode="python", exclude_unset=True),
                                     default=str))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """Parse the file at `path` (a ValueError naming the file when it is no such record)."""
        path = Path(path)
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ValueError(f"'{path}' is not a valid {cls.__name__}: {exc}") from None

    def write(self, path: str | Path, kind: str | None = None) -> Path:
        """Written atomically and durably (lstmflow.durable); `kind` names its crash points."""
        from lstmflow.durable import write_json

        return write_json(Path(path), self.to_json(), kind)

    def update(self, **values: Any) -> Self:
        """Set several fields at once (each validated); returns self."""
        for key, value in values.items():
            setattr(self, key, value)
        return self
