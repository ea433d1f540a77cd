"""`python -m haven.privacy.docs`: writes docs/data-inventory.md from the declarations."""

from __future__ import annotations

import sys
from pathlib import Path

from haven.privacy.inventory import render_markdown


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path("docs")
    (root / "data-inventory.md").write_text(render_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
