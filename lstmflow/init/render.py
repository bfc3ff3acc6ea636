"""The inferred config as commented YAML: every inferred value carries its reason, every key of
COMMON_KEYS that init does not infer is written at its default with what it means."""

from __future__ import annotations

import re
from typing import Any

import yaml

from lstmflow.config.keys import COMMON_KEYS
from lstmflow.init.build import config_field, with_common_keys
from lstmflow.init.infer import Inference

SECTION_NOTES = {
    "training": "budget chosen from the data when training starts (max_steps, val_check_steps, "
                "batch_size, window_stride; recorded in summary.json under training.budget)",
    "quality": "checks this file already fails, turned into warnings (see the notes above)",
}
LINE_WIDTH = 120  # a key's description is cut to keep its line within this many characters
DEFAULT = "(default) "  # marks a key written at the config's default


def _inline(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()
    return text.removesuffix("...").strip()


def _top_level(text: str, stop: str) -> list[int]:
    """Positions in `text` of the characters in `stop` outside brackets and quotes."""
    depth, quoted, out = 0, False, []
    for i, ch in enumerate(text):
        if not depth and not quoted and ch in stop:
            out.append(i)
        if ch == "`":
            quoted = not quoted
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
    return out


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    for i in _top_level(text, "."):
        if i + 1 == len(text) or text[i + 1] == " ":
            return text[:i]
    return text.rstrip(".")


def _cut(text: str, budget: int) -> str:
    """`text` if it fits `budget`, else its longest start ending at a clause mark (',', ';',
    ':' or before a parenthesis) that fits, marked '...'; at a word when none does."""
    if len(text) <= budget:
        return text
    room = budget - 3
    ends = [i for i in _top_level(text, ",;:") if i <= room]
    ends += [i for i in _top_level(text, "(") if 0 < i <= room + 1 and text[i - 1] == " "]
    if ends:
        return text[:max(ends)].rstrip() + "..."
    return text[:room].rsplit(" ", 1)[0] + "..."


def _without_asides(text: str) -> str:
    """`text` without its parenthesised asides ('(3e-3 converges ...)'); '(0, 1]' stays."""
    return re.sub(r"\s*\((?:[^()\[\]]|\([^()]*\))*\)", "", text)


def describe(description: str, budget: int) -> str:
    """The first sentence of a field's description, cut to `budget` characters: of the whole
    sentence and the sentence without its asides, the one that keeps more when cut."""
    sentence = _first_sentence(description)
    cuts = [_cut(sentence, budget), _cut(_without_asides(sentence), budget)]
    return max(cuts, key=lambda c: (len(c.removesuffix("...")), c == cuts[0]))


def _default_note(dotted: str, value: Any, line: str) -> str:
    """The comment of a key written without a reason: what it means, from its description,
    marked '(default)' where the value is the config's default."""
    field = config_field(dotted)
    mark = DEFAULT if value == field.get_default(call_default_factory=True) else ""
    budget = max(40, LINE_WIDTH - len(line) - len("  # ") - len(mark))
    return mark + describe(field.description or "", budget)


def _emit(node: dict[str, Any], why: dict[str, str], prefix: str, indent: int,
          out: list[str]) -> None:
    pad = "  " * indent
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value and not dotted.endswith("severity"):
            note = why.get(dotted) or SECTION_NOTES.get(dotted)
            out.append(f"{pad}{key}:" + (f"  # {note}" if note else ""))
            _emit(value, why, dotted + ".", indent + 1, out)
            continue
        line = f"{pad}{_inline(key)}: {_inline(value)}"
        note = why.get(dotted) or SECTION_NOTES.get(dotted)
        if not note and dotted in COMMON_KEYS:
            note = _default_note(dotted, value, line)
        out.append(f"{line}  # {note}" if note else line)


def render_yaml(inf: Inference, command: str) -> str:
    """The config file's text: a header with the notes, then the keys with their reasons."""
    written, _ = with_common_keys(inf.raw)
    out = [f"# Written by `{command}`.",
           "# Every inferred value says why; edit any of them, then: lstmflow train --config <this file>"]
    out += [f"# {n}" for n in inf.notes]
    out += [f"# NOT DECIDED: {u}" for u in inf.undecided]
    out.append(f"# '{DEFAULT.strip()}' marks a value left at the config's default, with what "
               "the key does")
    out.append("# Every other key keeps its default; all keys are documented in docs/config.md")
    _emit(written, inf.why, "", 0, out)
    return "\n".join(out) + "\n"
