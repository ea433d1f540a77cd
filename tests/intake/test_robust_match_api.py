"""Haven's robustness steps end to end: an image banked from a file (as `haven bank add` does)
blocks rotated, mirrored, letterboxed and cropped re-uploads over real HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from haven.banks.service import add_entries, entries_from_files, get_bank
from haven.core.db import Database
from tests.conftest import LiveServer
from tests.helpers import TRANSFORMS, encode, sample


def test_banked_file_blocks_transformed_copies(server: LiveServer, api_key: str, db: Database, tmp_path: Path) -> None:
    original = tmp_path / "motorcycle.png"
    original.write_bytes(encode(sample("motorcycle_left"), "PNG"))
    with server.client(api_key) as c:
        assert c.post("/v1/banks", json={"name": "known", "kind": "known_csam"}).status_code == 201
        entries, variants, errors = entries_from_files([original], classification="A1", max_pixels=100_000_000)
        names = {n for v in variants.values() for n, _ in v}
        assert errors == [] and {"crop95", "crop90", "crop85", "crop80"} <= names  # centre crops among the variants
        with db.session() as s:
            add_entries(s, get_bank(s, "known"), entries, actor="cli", variants=variants)
            s.commit()
        img = sample("motorcycle_left")
        copies = {
            "rot90": TRANSFORMS["rot90"](img),
            "mirror_letterbox": encode(
                Image.fromarray(
                    np.pad(
                        np.asarray(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
                        ((80, 80), (0, 0), (0, 0)),
                    )
                ),
                quality=85,
            ),
            "crop3": TRANSFORMS["crop3"](img),
        }
        expected_variant = {"rot90": "rot270", "mirror_letterbox": "trimmed_mirror", "crop3": None}
        deadline = time.monotonic() + 15  # the server picks bank changes up within index_refresh_seconds
        for name, data in copies.items():
            while True:
                body = c.post("/v1/content", files={"file": (f"{name}.jpg", data)}).json()
                if body["matches"] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert body["verdict"]["action"] == "block", (name, body)
            assert all(m["distance"] <= 31 and m["classification"] == "A1" for m in body["matches"]), body
            if expected_variant[name]:
                # The original entry's match comes through the expected query variant (crop-variant
                # entries may match too, through others, at equal distance: order is not defined).
                assert expected_variant[name] in {m["query_variant"] for m in body["matches"]}, (name, body)
        unrelated = c.post("/v1/content", files={"file": ("x.jpg", TRANSFORMS["mirror"](sample("rocket")))}).json()
        assert unrelated["verdict"]["action"] == "allow" and unrelated["matches"] == []
