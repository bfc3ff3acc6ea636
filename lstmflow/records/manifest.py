"""manifest.json of a registry version, as a typed record (lstmflow.records.base).

The manifest seals the version (lstmflow.serve.manifest): `manifest_sha256` is the SHA-256 of
the manifest without that key in canonical JSON, so the keys and values written here are
exactly the bytes that digest covers. Every field is optional: a version written by any
lstmflow since the manifest reads back whole (unknown keys are kept), and the digest, not
this record, says whether it is intact.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lstmflow.records.base import Record
from lstmflow.records.run import Finding


class DecisionRecord(Record):
    """What registration decided: promoted or not, the status it gave the version, why, under
    which policy and margin, against which champion."""

    promoted: bool | None = None
    status: str | None = None  # champion, candidate, rejected
    reason: str | None = None
    policy: str | None = None  # registry.promote
    min_improvement: float | None = None  # registry.min_improvement
    champion_before: str | None = None  # the champion's version then, if any


class ManifestData(Record):
    """The training data (lstmflow.serve.manifest.data_record): what prediction checks new
    data against."""

    fingerprint: str | None = None
    source: str | None = None
    freq: str | None = None
    step: Any = None  # the grid step as the ingest report gives it
    series: list[str] = Field(default_factory=list)
    left_out: dict[str, str] = Field(default_factory=dict)  # series: why it was too short
    rows: int | None = None


class FileEntry(Record):
    sha256: str
    size: int


class Manifest(Record):
    """A version's manifest: where it came from (run, data, config and its digests, gates,
    metrics, diagnosis, seeds, libraries, commit), the promotion decision, and the SHA-256 and
    size of every other file of the version, sealed by its own digest."""

    created: str | None = None
    run_id: str | None = None
    flow_run_id: str | None = None
    trained_at: str | None = None
    data: ManifestData | None = None
    inputs: list[str] | None = None
    config: dict[str, Any] | None = None
    effective_config_sha256: str | None = None
    requested_config_sha256: str | None = None
    gates: dict[str, bool | None] | None = None
    metrics: dict[str, Any] | None = None  # the evaluation output (lstmflow.fit.evaluate)
    diagnosis: list[Finding] | None = None
    seeds: dict[str, Any] | None = None
    libraries: dict[str, str] | None = None
    git_commit: str | None = None
    decision: DecisionRecord | None = None
    version: str | None = None
    format: int | None = None
    files: dict[str, FileEntry] | None = None
    manifest_sha256: str | None = None
