"""Benign test videos made with PyAV from scikit-image sample photographs."""

from __future__ import annotations

import io

import av
import numpy as np

from tests.helpers import sample


def make_video(names: list[str], seconds_each: int = 2, fps: int = 10, size: tuple[int, int] = (320, 240)) -> bytes:
    """An H.264 MP4 showing each named sample photograph for `seconds_each` seconds."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height = size
        s.pix_fmt = "yuv420p"
        for n in names:
            img = np.asarray(sample(n).resize(size))
            for i in range(seconds_each * fps):
                # A little motion so frames are not byte-identical.
                frame = av.VideoFrame.from_ndarray(np.roll(img, i % 3, axis=1), format="rgb24")
                for p in s.encode(frame):
                    c.mux(p)
        for p in s.encode():
            c.mux(p)
    return buf.getvalue()
