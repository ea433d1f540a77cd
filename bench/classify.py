"""Benchmark of haven.classify: image classifiers, the per-message conversation update with
10,000 live conversations (target p99 <= 5 ms), and video analysis speed.

Run: .venv/bin/python bench/classify.py [--quick] [--conversations]. Prints figures, ends with
`RESULT {json}`; `--conversations` measures only the per-message update (rules, rules + model).
The machine is shared (2 cores): quote medians and ratios.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

QUICK = "--quick" in sys.argv


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def images() -> list[np.ndarray]:
    from PIL import Image
    from skimage import data as skdata

    out = []
    for name in ("astronaut", "camera", "coffee", "chelsea", "rocket", "horse", "retina", "coins"):
        arr = getattr(skdata, name)()
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        img = Image.fromarray(arr.astype(np.uint8)).convert("RGB")
        img.thumbnail((512, 512))
        out.append(np.asarray(img))
    return out


def bench_images(result: dict) -> None:
    from haven.classify.base import Content
    from haven.classify.local import ApparentAge, OpenNsfw

    pics = images()
    for clf in (OpenNsfw(), ApparentAge()):
        clf.classify(Content.of_image(pics[0]))  # load
        lat = []
        rounds = 3 if QUICK else 10
        for _ in range(rounds):
            for p in pics:
                t = time.perf_counter()
                clf.classify(Content.of_image(p))
                lat.append((time.perf_counter() - t) * 1000)
        n = len(pics) * rounds
        t = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda p, c=clf: c.classify(Content.of_image(p)), pics * rounds))
        tput = n / (time.perf_counter() - t)
        print(
            f"{clf.name:>13}: {statistics.median(lat):6.1f} ms median, p99 {pct(lat, 99):6.1f} ms per image; "
            f"{tput:6.1f} images/s with 2 threads"
        )
        result[f"{clf.name}_ms_median"] = round(statistics.median(lat), 2)
        result[f"{clf.name}_ms_p99"] = round(pct(lat, 99), 2)
        result[f"{clf.name}_images_per_s_2threads"] = round(tput, 1)


def _stream(n_msgs: int, n_convs: int):
    from haven.classify.evaluation.dataset import generate

    convs = generate("tune") + generate("held_out")
    rng = random.Random(7)
    lines = [(c, m) for c in convs for m in c.messages]
    for _ in range(n_msgs):
        c, m = rng.choice(lines)
        yield rng.randrange(n_convs), c, m


def bench_conversations(result: dict, semantic=None, label: str = "rules", model=None) -> None:
    from haven.classify.conversation.detector import ConversationState, Detector, MessageContext

    det = Detector(0.5, 0.5, semantic, model)
    n_convs = 10_000
    states = [ConversationState().to_json() for _ in range(n_convs)]
    n = (1_000 if semantic else 20_000) if not QUICK else 500
    lat = []
    cpu = []  # CPU time of this thread: the wall-clock p99 on a shared 2-core machine is mostly preemption
    for idx, conv, m in _stream(n, n_convs):
        other = "b" if m.sender == "a" else "a"
        ctx = MessageContext(conv.bands[m.sender], [conv.bands[other]], connected=conv.connected)
        t, c = time.perf_counter(), time.thread_time()
        st = ConversationState.from_json(states[idx])  # as loaded from the database row
        det.update(st, sender=m.sender, text=m.text, context=ctx)
        states[idx] = st.to_json()
        lat.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    print(
        f"conversation update ({label}, {n_convs} live conversations, {n} messages): "
        f"median {statistics.median(lat):.3f} ms, p99 {pct(lat, 99):.3f} ms wall; "
        f"CPU median {statistics.median(cpu):.3f} ms, p99 {pct(cpu, 99):.3f} ms"
    )
    result[f"message_update_{label}_cpu_ms_p99"] = round(pct(cpu, 99), 4)
    result[f"message_update_{label}_ms_median"] = round(statistics.median(lat), 4)
    result[f"message_update_{label}_ms_p99"] = round(pct(lat, 99), 4)


def bench_message_db(result: dict) -> None:
    """The whole message path minus HTTP: relationship queries, state load and store, events (SQLite)."""
    from haven.classify.conversation.detector import Detector
    from haven.classify.models import Conversation
    from haven.core.db import Database
    from haven.core.migrate import upgrade
    from haven.intake.messages import MessageIn, record_message

    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{Path(tmp) / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    n_convs = 10_000
    with db.session() as s:
        s.add_all(Conversation(id=f"c{i}", integration_id="bench", participants=[], state={}) for i in range(n_convs))
    det = Detector(0.5, 0.5)
    n = 300 if QUICK else 2_000
    lat = []
    for i, (idx, _conv, m) in enumerate(_stream(n, n_convs)):
        body = MessageIn(conversation_id=f"c{idx}", sender=f"u{idx}{m.sender}", recipients=[f"u{idx}x"], text=m.text)
        t = time.perf_counter()
        with db.session() as s:
            record_message(s, det, integration_id="bench", actor="bench", body=body)
        lat.append((time.perf_counter() - t) * 1000)
        if i == 0:
            lat.clear()
    print(
        f"message path with SQLite ({n_convs} conversations, {n} messages, one transaction each): "
        f"median {statistics.median(lat):.2f} ms, p99 {pct(lat, 99):.2f} ms"
    )
    result["message_db_sqlite_ms_median"] = round(statistics.median(lat), 3)
    result["message_db_sqlite_ms_p99"] = round(pct(lat, 99), 3)


def make_video(seconds: int, size=(1280, 720), fps: int = 30) -> bytes:
    import av

    from haven.signals.stand_ins import synthetic_picture

    buf = io.BytesIO()
    base = [np.asarray(synthetic_picture(i, size).convert("RGB")) for i in range(4)]
    with av.open(buf, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height = size
        s.pix_fmt = "yuv420p"
        s.options = {"preset": "ultrafast"}
        for i in range(seconds * fps):
            frame = np.roll(base[(i // (fps * 2)) % 4], i * 4, axis=1)
            for p in s.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return buf.getvalue()


def bench_video(result: dict) -> None:
    from haven.classify.base import Content
    from haven.classify.local import OpenNsfw
    from haven.signals.video import sample_frames, vpdq_hashes

    secs = 5 if QUICK else 20
    data = make_video(secs)
    t = time.perf_counter()
    frames, w, h, count, dur = sample_frames(data, 16)
    decode = time.perf_counter() - t
    t = time.perf_counter()
    feats = vpdq_hashes(data)
    vp = time.perf_counter() - t
    t = time.perf_counter()
    OpenNsfw().classify(Content.of_frames(frames))
    cl = time.perf_counter() - t
    print(
        f"video {w}x{h}, {dur:.0f} s, {count} frames: decode+sample {count / decode:.0f} frames/s; "
        f"vPDQ {count / vp:.0f} frames/s ({dur / vp:.1f}x realtime, {len(feats)} hashes); "
        f"opennsfw on 16 sampled frames {cl * 1000:.0f} ms"
    )
    result["video_decode_frames_per_s"] = round(count / decode, 1)
    result["video_vpdq_frames_per_s"] = round(count / vp, 1)
    result["video_vpdq_x_realtime"] = round(dur / vp, 2)
    result["video_classify_16_frames_ms"] = round(cl * 1000, 1)
    result["video_total_x_realtime"] = round(dur / (decode + vp + cl), 2)


def main() -> None:
    from haven.classify.conversation.model import load_model, model_path

    result: dict = {"quick": QUICK}
    bench_conversations(result)
    model = load_model()
    bench_conversations(result, label="rules+model", model=model)
    result["message_model_bytes"] = model_path().stat().st_size
    if "--conversations" in sys.argv:  # the per-message figures only
        result["target_p99_ms"] = 5.0
        result["rules_p99_meets_target"] = result["message_update_rules+model_ms_p99"] <= 5.0
        print("RESULT " + json.dumps(result))
        return
    bench_message_db(result)
    bench_images(result)
    bench_video(result)
    from haven.classify.conversation.semantic import load_semantic

    sem = load_semantic(threads=1)
    if sem is not None:
        bench_conversations(result, sem, "rules+semantic")
    result["target_p99_ms"] = 5.0
    # The default path is rules + the trained model (settings.conversation_model).
    result["rules_p99_meets_target"] = result["message_update_rules+model_ms_p99"] <= 5.0
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
