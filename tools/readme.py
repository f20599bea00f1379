"""Generated blocks in the README, between `<!-- NAME:start ... -->` and `<!-- NAME:end -->`."""

from __future__ import annotations

import re
from pathlib import Path


def replace_block(readme: Path, name: str, content: str) -> bool:
    """Put `content` between the block's markers; False if the README has no such block."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(
        rf"(<!-- {re.escape(name)}:start[^>]*-->\n).*?(<!-- {re.escape(name)}:end -->)", re.S
    )
    if not pattern.search(text):
        return False
    readme.write_text(
        pattern.sub(lambda m: m.group(1) + content.rstrip("\n") + "\n" + m.group(2), text, 1),
        encoding="utf-8",
    )
    return True
