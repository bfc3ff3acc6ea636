"""The inferred config as commented YAML: every inferred value carries its reason."""

from __future__ import annotations

from typing import Any

import yaml

from lstmflow.init.infer import Inference

SECTION_NOTES = {
    "training": "budget chosen from the data when training starts (max_steps, val_check_steps, "
                "batch_size, window_stride; recorded in summary.json under training.budget)",
    "quality": "checks this file already fails, turned into warnings (see the notes above)",
}


def _inline(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()
    return text.removesuffix("...").strip()


def _emit(node: dict[str, Any], why: dict[str, str], prefix: str, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value and not dotted.endswith("severity"):
            note = SECTION_NOTES.get(dotted)
            out.append(f"{pad}{key}:" + (f"  # {note}" if note else ""))
            _emit(value, why, dotted + ".", indent + 1, out)
            continue
        line = f"{pad}{_inline(key)}: {_inline(value)}"
        note = why.get(dotted) or SECTION_NOTES.get(dotted)
        out.append(f"{line}  # {note}" if note else line)


def render_yaml(inf: Inference, command: str) -> str:
    """The config file's text: a header with the notes, then the keys with their reasons."""
    out = [f"# Written by `{command}`.",
           "# Every inferred value says why; edit any of them, then: lstmflow train --config <this file>"]
    out += [f"# {n}" for n in inf.notes]
    out += [f"# NOT DECIDED: {u}" for u in inf.undecided]
    _emit(inf.raw, inf.why, "", 0, out)
    return "\n".join(out) + "\n"
