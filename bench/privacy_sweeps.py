"""Benchmark of the retention sweeps on SQLite: N allowed uploads and N messages (in N/10
conversations never flagged), all past their period, then the sweeps that remove them.

Run: .venv/bin/python bench/privacy_sweeps.py [N] (default 20,000). Prints figures, ends with
`RESULT {json}`. The machine is shared (2 cores): quote the figures as measured, not as limits.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    os.environ.setdefault("HAVEN_SECRETS_KEY", "A" * 43 + "=")
    from haven.classify.models import Conversation, ConversationMessage
    from haven.core.clock import frozen
    from haven.core.db import Database
    from haven.core.migrate import upgrade
    from haven.core.models import Integration
    from haven.core.settings import Settings
    from haven.privacy.sweeps import run_sweep
    from haven.screening.models import ContentItem

    url = f"sqlite:///{tmp / 'haven.db'}"
    upgrade(url)
    db = Database(url)
    settings = Settings(var_dir=tmp / "var", database_url=url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with frozen(t0), db.session() as s:
        integ = Integration(name="bench", scopes=["intake"])
        s.add(integ)
        s.flush()
        for i in range(N):
            s.add(
                ContentItem(
                    integration_id=integ.id,
                    media_kind="image",
                    uploader=f"u{i}",
                    ip="198.51.100.1",
                    verdict="allow",
                    verdict_rule="r",
                    sha256=f"{i:064x}",
                )
            )
        for c in range(N // 10):
            s.add(Conversation(id=f"c{c}", integration_id=integ.id, participants=[f"a{c}", f"b{c}"], turns=10))
            for t in range(10):
                s.add(ConversationMessage(conversation_id=f"c{c}", turn=t, sender=f"a{c}", text="hello there"))
    out: dict[str, float | int] = {"n": N}
    with frozen(t0 + timedelta(days=100)):
        for name in ("messages.unflagged", "content.uploader", "content.allowed"):
            start = time.perf_counter()
            count = run_sweep(db, name, settings)
            secs = time.perf_counter() - start
            out[f"{name}_seconds"] = round(secs, 2)
            out[f"{name}_count"] = count
            print(f"{name}: {count} rows in {secs:.2f} s ({count / secs:,.0f} rows/s)")
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
