"""Item 19.5: decoding within the pixel limit must not exhaust memory. A per-upload budget
from the header (bit depth and channels counted) before decoding, one decode shared by hashing
and classifiers, a bounded number of decodes at once (503 with Retry-After beyond), and a
default pixel limit of 50 MP that still takes a 48 MP phone photo. Test images are benign
gradients made with numpy and Pillow."""

from __future__ import annotations

import io
import resource
import time

import numpy as np
import pytest
from PIL import Image

from haven.core.db import Database
from haven.core.settings import Settings
from haven.screening import signals as screening_signals
from haven.signals import image as image_mod
from tests.conftest import LiveServer


def _tiff16(width: int, height: int) -> bytes:
    ramp = ((np.arange(width, dtype=np.uint32) * 10 // width) * 6500).astype(np.uint16)  # ten bands
    arr = np.broadcast_to(ramp, (height, width))
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr), "I;16").save(out, "TIFF", compression="tiff_adobe_deflate")
    return out.getvalue()


def _png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert(mode).save(out, "PNG")
    return out.getvalue()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_large_16bit_tiff_is_refused_before_decoding(server: LiveServer, api_key: str) -> None:
    data = _tiff16(10_000, 10_000)  # 100 MP, 16-bit: within the old 100 MP limit
    assert len(data) < 2_000_000
    before = _peak_rss_mb()
    started = time.monotonic()
    with server.client(api_key) as c:
        r = c.post("/v1/content", files={"file": ("big.tiff", data)})
    elapsed = time.monotonic() - started
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] in ("image_too_large", "image_too_costly")
    assert elapsed < 3.0
    assert _peak_rss_mb() - before < 300  # the old path peaked at ~3 GB for this file


def test_budget_counts_bit_depth_before_decoding(settings: Settings, db: Database) -> None:
    tight = settings.model_copy(update={"max_decode_bytes": 256 * 1024 * 1024})
    # 36 MP at 16 bits is over a 256 MiB budget; 12 MP at 8 bits is not.
    started = time.monotonic()
    with pytest.raises(Exception) as exc:
        screening_signals.compute_signals(_tiff16(6000, 6000), tight)
    assert getattr(exc.value, "code", None) == "image_too_costly"
    assert exc.value.details["mode"].startswith("I;16")  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5.0
    assert image_mod.decode_cost(6000, 6000, "I;16") > image_mod.decode_cost(6000, 6000, "L")
    assert image_mod.decode_cost(100, 100, "RGBA") > image_mod.decode_cost(100, 100, "L")
    ok = screening_signals.compute_signals(_png(4000, 3000), tight)
    assert ok.image is not None and ok.image.width == 4000


def test_one_decode_shared_by_hashing_and_classifiers(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = image_mod._pillow_decode

    def counting(*args: object, **kw: object) -> Image.Image:
        calls.append("decode")
        return original(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(image_mod, "_pillow_decode", counting)
    out = screening_signals.compute_signals(_png(640, 480), settings, "upload", classify=True)
    assert out.scores, "the default classifiers ran"
    assert calls == ["decode"]


def test_concurrent_decodes_are_bounded(server: LiveServer, api_key: str, settings: Settings) -> None:
    settings.max_concurrent_decodes = 1
    settings.decode_wait_seconds = 0.3
    slot = screening_signals.decode_slot(settings)
    slot.__enter__()  # another upload is decoding
    try:
        with server.client(api_key) as c:
            r = c.post("/v1/content", files={"file": ("a.png", _png(64, 64))})
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "busy"
        assert r.headers["retry-after"] == "1"
    finally:
        slot.__exit__(None, None, None)
    with server.client(api_key) as c:
        assert c.post("/v1/content", files={"file": ("a.png", _png(64, 64))}).status_code == 200


def test_default_pixel_limit_takes_a_48_mp_photo(server: LiveServer, api_key: str) -> None:
    assert Settings().max_image_pixels == 50_000_000
    out = io.BytesIO()
    Image.linear_gradient("L").resize((8000, 6000)).convert("RGB").save(out, "JPEG", quality=85)
    with server.client(api_key) as c:
        r = c.post("/v1/content", files={"file": ("phone.jpg", out.getvalue())})
    assert r.status_code == 200, r.text
    assert r.json()["media_kind"] == "image"
