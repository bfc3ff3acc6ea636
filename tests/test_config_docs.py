"""docs/config.md is the config schema's page, and the README and docs/ link only to pages that
exist: a key added without regenerating the page, or a page moved without fixing its links,
fails here."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from lstmflow.config import PipelineConfig
from lstmflow.config.docs import DOC_PATH, WRITE_COMMAND, render_config_docs
from lstmflow.config.keys import COMMON_KEYS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
README_MAX_LINES = 160
# [text](target): the target up to a space, ')' or '#'; absolute URLs and in-page anchors skipped.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s#]*)(?:#[^)\s]*)?\)")


def _models(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds directly: X, X | None, Optional[X]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    return []


def _map_values(annotation: object) -> list[type[BaseModel]]:
    """The models a dict[str, Model] field maps to (quality.bounds)."""
    if typing.get_origin(annotation) is dict:
        return [m for arg in typing.get_args(annotation)[1:] for m in _models(arg)]
    return []


def leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted key a config file can set, from the model's fields (not from the schema
    the page is rendered from). A map of models (quality.bounds) yields its own key and
    '<key>.<placeholder>.<field>' patterns for its values' fields."""
    keys = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        nested = _models(info.annotation)
        if nested:
            for sub in nested:
                keys += leaf_keys(sub, f"{key}.")
            continue
        keys.append(key)
        for sub in _map_values(info.annotation):
            keys += [f"{key}.<*>.{k}" for k in leaf_keys(sub)]
    return keys


def _page() -> str:
    assert DOC_PATH.is_file(), f"docs/config.md is missing: run `{WRITE_COMMAND}`"
    return DOC_PATH.read_text(encoding="utf-8")


def test_config_page_is_generated_from_the_schema() -> None:
    assert _page() == render_config_docs(), (
        f"docs/config.md differs from the config schema: run `{WRITE_COMMAND}`")


def test_every_config_key_is_on_the_page() -> None:
    page = _page()
    keys = leaf_keys(PipelineConfig)
    assert "data.path" in keys and "tune.space.learning_rate" in keys
    assert "quality.bounds.<*>.min" in keys
    missing = []
    for key in keys:
        pattern = re.escape(f"`{key}`").replace(re.escape("<*>"), r"<[a-z_]+>")
        if not re.search(pattern, page):
            missing.append(key)
    assert not missing, f"config keys missing from docs/config.md: {missing}; run `{WRITE_COMMAND}`"


def test_common_keys_are_config_keys() -> None:
    keys = set(leaf_keys(PipelineConfig))
    assert len(COMMON_KEYS) == len(set(COMMON_KEYS))
    assert [k for k in COMMON_KEYS if k not in keys] == []


def _links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [t for t in LINK.findall(text) if t and not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def test_readme_is_short_and_links_to_existing_pages() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move detail to docs/")
    links = _links(README)
    pages = [t for t in links if t.startswith("docs/") and t.endswith(".md")]
    assert "docs/config.md" in pages and "docs/changelog.md" in pages
    broken = [t for t in links if not (ROOT / t).exists()]
    assert broken == [], f"README.md links to missing files: {broken}"


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_docs_links_point_to_existing_files(page: Path) -> None:
    broken = [t for t in _links(page) if not (page.parent / t).resolve().exists()]
    assert broken == [], f"{page.name} links to missing files: {broken}"
