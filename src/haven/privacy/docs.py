"""`python -m haven.privacy.docs`: writes docs/data-inventory.md and docs/dpia.md (defaults)."""

from __future__ import annotations

import sys
from pathlib import Path

from haven.privacy.inventory import render_markdown


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path("docs")
    from haven.core.settings import Settings
    from haven.privacy.dpia import render

    (root / "data-inventory.md").write_text(render_markdown())
    # The defaults, not this machine's environment: the committed file must not depend on it.
    defaults = Settings(_env_file=None, environment="development")  # type: ignore[call-arg]
    (root / "dpia.md").write_text(render(defaults, for_deployment=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
