"""SOP text: Markdown with a small front matter, parsed into a title, numbered steps and the
prose around them (safety notes and tools before the steps, expected readings after).

A procedure looks like this::

    ---
    title: Vibration above limit
    ---

    ## Safety
    - Lock out and tag out the machine.

    ## Steps
    1. Measure vibration at both bearings.
    2. Check the foundation bolts.

    ## Expected readings after the fix
    - Below the warning limit.

The steps are the numbered items of the section whose heading starts with "Steps" or
"Procedure" (or, without one, every numbered item); an indented line continues a step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ParsedSop",
    "SopError",
    "parse_sop",
    "check_sop",
    "check_code",
    "plain",
    "template",
    "without_front_matter",
]

MAX_CHARS = 20_000
MAX_TITLE = 200
_ITEM = re.compile(r"^\s{0,3}\d{1,3}[.)]\s+(\S.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_STEPS_HEADING = re.compile(r"^(steps|procedure)\b", re.IGNORECASE)
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")
_MARKUP = re.compile(r"(\*\*|__|`)")


class SopError(ValueError):
    """An SOP that cannot be saved; the message is meant for the author."""


@dataclass(frozen=True, slots=True)
class ParsedSop:
    title: str
    steps: list[str]
    before: str  # Markdown before the steps: safety notes, tools
    after: str  # Markdown after the steps: expected readings


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            meta = {}
            for entry in lines[1:end]:
                key, sep, value = entry.partition(":")
                if sep:
                    meta[key.strip().lower()] = value.strip()
            return meta, "\n".join(lines[end + 1 :])
    raise SopError("The front matter starting with --- has no closing --- line.")


def _steps_section(lines: list[str]) -> tuple[int, int] | None:
    """Line range [start, end) of the "Steps" section's content, if the text has one."""
    for i, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading and _STEPS_HEADING.match(heading.group(1).strip()):
            level = len(line) - len(line.lstrip("#"))
            for j in range(i + 1, len(lines)):
                other = _HEADING.match(lines[j])
                if other and len(lines[j]) - len(lines[j].lstrip("#")) <= level:
                    return i, j
            return i, len(lines)
    return None


def _items(lines: list[str]) -> tuple[list[str], int, int]:
    """Numbered items in ``lines`` and the line range they span ([first, last + 1))."""
    steps: list[str] = []
    first = last = -1
    for i, line in enumerate(lines):
        item = _ITEM.match(line)
        if item:
            steps.append(item.group(1).strip())
            first = i if first < 0 else first
            last = i
        elif steps and line.strip() and line[:1].isspace() and i == last + 1:
            steps[-1] += " " + line.strip()  # an indented line continues the step
            last = i
    return steps, first, last + 1


def parse_sop(text: str) -> ParsedSop:
    """Title, steps and surrounding prose of an SOP text (no validation beyond the syntax)."""
    meta, body = _front_matter(text.replace("\r\n", "\n"))
    lines = body.split("\n")
    title = meta.get("title", "")
    if not title:
        heading = next((line for line in lines if line.startswith("# ")), None)
        if heading is not None:
            title = heading[2:].strip()
            lines.remove(heading)
    section = _steps_section(lines)
    if section is not None:
        start, end = section
        steps, _, _ = _items(lines[start + 1 : end])
        before, after = lines[:start], lines[end:]
    else:
        steps, first, stop = _items(lines)
        before, after = (lines[:first], lines[stop:]) if steps else (lines, [])
    return ParsedSop(title, steps, "\n".join(before).strip(), "\n".join(after).strip())


def check_sop(text: str | None) -> ParsedSop:
    """The parsed SOP, or ``SopError`` saying what to fix."""
    text = (text or "").strip()
    if not text:
        raise SopError("Write the procedure first.")
    if len(text) > MAX_CHARS:
        raise SopError(f"An SOP may be at most {MAX_CHARS:,} characters; this has {len(text):,}.")
    parsed = parse_sop(text)
    if not parsed.title:
        raise SopError("Give it a title: a front-matter line “title: …” or a first line “# …”.")
    if len(parsed.title) > MAX_TITLE:
        raise SopError(f"The title may be at most {MAX_TITLE} characters.")
    if not parsed.steps:
        raise SopError("An SOP needs at least one numbered step, e.g. “1. Lock out the machine”.")
    return parsed


def check_code(code: str | None) -> str:
    """An error code fit to name an SOP, e.g. ``VIB_HIGH``."""
    code = (code or "").strip()
    if not _CODE.match(code):
        raise SopError("A code is capital letters, digits and _ (e.g. VIB_HIGH), 2–32 long.")
    return code


def plain(step: str) -> str:
    """A step as plain text for a checklist label (bold and code markers dropped)."""
    return _MARKUP.sub("", step)


def template(code: str) -> str:
    """A starting text for a new SOP."""
    return (
        f"---\ntitle: {code.replace('_', ' ').capitalize()}\n---\n\n"
        "## Safety\n- Stop the machine and apply lockout-tagout before hands-on work.\n\n"
        "## Tools\n- \n\n"
        "## Steps\n1. \n\n"
        "## Expected readings after the fix\n- \n"
    )


def without_front_matter(text: str) -> str:
    """The Markdown to render: the front matter's title becomes a heading instead."""
    try:
        meta, body = _front_matter(text.replace("\r\n", "\n"))
    except SopError:
        return text
    title = meta.get("title", "")
    return (f"# {title}\n\n" if title else "") + body.strip()
