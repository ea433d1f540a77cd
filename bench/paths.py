"""The upload and lookup paths in-process, stage by stage, optionally side by side with another checkout.

Against a Haven var dir holding a bank (made here on first use: `--bank-size` random PDQ hashes
imported as one CSV and snapshotted), the API application is built in this process (its
lifespan loads the snapshot) and driven through Starlette's TestClient (middleware, auth and
routing included, no sockets):

- `POST /v1/content` with the ~200 KB JPEG of bench/intake.py (no classifiers: the synchronous
  path), and its stages measured apart:
  decode to luma, the PDQ query variants (dihedral, trim, sub-regions), the crypto hashes, and
  the screening transaction (match, rules, writes, commit);
- `POST /v1/hashes/lookup` with 1,000 hashes (500 banked, 500 random), and its stages: request
  validation, hex parsing, the index batch search, screening (rules per distinct pattern), the
  match-log write and commit, and the JSON encode.

`--against /work/main/src` runs the same measurements with that checkout's code in a
subprocess (same var dir, same inputs, interleaved rounds) and prints the ratios. Stages are
this thread's CPU time (steadier than the wall clock on a shared machine); `*_total_wall` is the
wall clock of the whole call through the TestClient. `--profile` prints a pyinstrument profile
of 20 uploads and 20 lookups run through the ASGI app in one thread. Ends with `RESULT {json}`.

    .venv/bin/python bench/paths.py --bank-size 1000000 --against /work/main/src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup(work: Path, bank_size: int) -> None:
    """The bank, snapshot and an intake key in `work` (kept for the next run)."""
    if (work / "key.json").exists():
        return
    import numpy as np

    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **_env(work))
    haven = str(Path(sys.executable).with_name("haven"))
    subprocess.run([haven, "db", "upgrade"], env=env, check=True, capture_output=True)
    raw = np.random.default_rng(3).integers(0, 256, (bank_size, 32), dtype=np.uint8)
    with (work / "bank.csv").open("w") as f:
        f.write("signal_type,value\n")
        f.writelines(f"pdq,{r.tobytes().hex()}\n" for r in raw)
    subprocess.run([haven, "bank", "create", "bench", "--kind", "known_csam"], env=env, check=True, capture_output=True)
    subprocess.run([haven, "bank", "import", "bench", str(work / "bank.csv")], env=env, check=True, capture_output=True)
    subprocess.run([haven, "bank", "snapshot"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [haven, "integration", "create", "bench", "--scopes", "intake", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (work / "key.json").write_text(out)


def _env(work: Path) -> dict[str, str]:
    return {
        "HAVEN_VAR_DIR": str(work),
        "HAVEN_LOG_LEVEL": "WARNING",
        "HAVEN_DATABASE_URL": f"sqlite:///{work / 'haven.db'}",
        "HAVEN_FLOOD_MAX_DISTINCT": "1000000000",
        "HAVEN_INLINE_WORKER": "false",
        # The upload path measured is hash + match + verdict: deferred classifiers would run in a
        # background thread of this process and take the CPU the measured calls run on.
        "HAVEN_CLASSIFIERS": '{"*": []}',
    }


def _ms(f: Any, n: int, cpu: bool = True) -> float:
    """Median milliseconds of `f()` over n calls: this thread's CPU time (steadier than the wall
    clock on a shared machine), or with cpu=False the wall clock (calls served by other threads)."""
    clock = time.thread_time if cpu else time.perf_counter
    out = []
    for _ in range(n):
        t0 = clock()
        f()
        out.append((clock() - t0) * 1000)
    return round(statistics.median(out), 3)


def measure(work: Path, rounds: int, profile: bool) -> dict[str, float]:
    """Stage medians (ms) of this checkout's code; runs in the process whose sys.path picks it."""
    os.environ.update(_env(work))
    sys.path.insert(0, str(ROOT / "bench"))
    import numpy as np
    from starlette.testclient import TestClient

    from haven.app import create_app
    from haven.core.settings import Settings
    from haven.intake import service
    from haven.intake.api import check_hashes
    from haven.intake.schemas import LookupRequest
    from haven.signals.crypto import crypto_hashes
    from haven.signals.image import decode_for_screening, query_variants
    from intake import jpeg_200k  # type: ignore[import-not-found]

    key = json.loads((work / "key.json").read_text())["key"]
    settings = Settings()
    image = jpeg_200k()
    rng = np.random.default_rng(3)
    banked = [r.tobytes().hex() for r in rng.integers(0, 256, (500, 32), dtype=np.uint8)]  # the CSV's first rows
    other = np.random.default_rng(99)  # not the bank's stream: its next rows are banked too
    queries = banked + [other.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(500)]
    body = json.dumps({"hashes": [{"signal_type": "pdq", "value": h} for h in queries]}).encode()
    out: dict[str, float] = {}
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        matcher = app.state.matcher.matcher
        db = app.state.db
        seq = iter(range(10**9))

        def upload() -> None:
            meta = json.dumps({"external_id": f"p{os.getpid()}-{next(seq)}", "surface": "upload"})
            r = client.post(
                "/v1/content", files={"file": ("p.jpg", image, "image/jpeg")}, data={"metadata": meta}, headers=headers
            )
            assert r.status_code == 200, r.text

        def lookup() -> None:
            r = client.post("/v1/hashes/lookup", content=body, headers={**headers, "Content-Type": "application/json"})
            assert r.status_code == 200, r.text
            n = sum(bool(x["matches"]) for x in r.json()["results"])
            assert n == 500, n

        upload()
        lookup()
        # upload stages
        out["upload_total_wall"] = _ms(upload, rounds, cpu=False)
        luma = decode_for_screening(image, rgb=False)[0]
        out["upload_decode"] = _ms(lambda: decode_for_screening(image, rgb=False), rounds)
        out["upload_variants"] = _ms(lambda: query_variants(luma.luma), rounds)
        out["upload_crypto"] = _ms(lambda: crypto_hashes(image), rounds)
        out["upload_variant_count"] = len(query_variants(luma.luma)[0])
        variants = query_variants(luma.luma)[0]
        out["upload_match"] = _ms(lambda: matcher.match_pdq(variants), rounds)
        # lookup stages
        out["lookup_total_wall"] = _ms(lookup, rounds, cpu=False)
        out["lookup_validate"] = _ms(lambda: check_hashes(LookupRequest.model_validate_json(body)), rounds)
        qs = check_hashes(LookupRequest.model_validate_json(body))[0]
        from haven.banks.index import hex_to_words

        out["lookup_hex_parse"] = _ms(lambda: hex_to_words(queries), rounds)
        words = hex_to_words(queries)
        st = matcher._read_state()
        out["lookup_kernel"] = _ms(
            lambda: matcher.index.search_batch_view(st.view, words, matcher.max_threshold), rounds
        )
        out["lookup_match_groups"] = _ms(lambda: matcher.match_pdq_groups([[("original", v)] for v in queries]), rounds)

        def service_lookup() -> None:
            with db.session() as s:
                service.lookup(s, settings, matcher, integration_id="bench", queries=qs)

        out["lookup_service"] = _ms(service_lookup, rounds)
        import orjson

        with db.session() as s:
            results = service.lookup(s, settings, matcher, integration_id="bench", queries=qs)
        out["lookup_encode"] = _ms(lambda: orjson.dumps({"results": results}), rounds)
        from haven.intake.schemas import ContentMetadata
        from haven.screening.signals import compute_signals

        def upload_core() -> None:
            """What the upload route runs in its worker threads, here in this thread."""
            sig = compute_signals(image, settings, "upload", classify=True, defer=not settings.classify_inline)
            meta = ContentMetadata(external_id=f"c{os.getpid()}-{next(seq)}", surface="upload")
            with db.session() as s:
                service.record_content(
                    s, settings, matcher, integration_id="bench", actor="bench", data=image, signals=sig, meta=meta
                )

        def lookup_core() -> None:
            """What the lookup route runs, here in this thread."""
            q = check_hashes(LookupRequest.model_validate_json(body))[0]
            with db.session() as s:
                res = service.lookup(s, settings, matcher, integration_id="bench", queries=q)
            orjson.dumps({"results": res})

        out["upload_core"] = _ms(upload_core, rounds)
        out["lookup_core"] = _ms(lookup_core, rounds)
        if profile:
            import asyncio

            import anyio.to_thread
            import httpx
            from pyinstrument import Profiler

            async def inline(func: Any, *a: Any, **kw: Any) -> Any:
                return func(*a)

            anyio.to_thread.run_sync = inline  # type: ignore[assignment]  # the profiler sees one thread

            async def through_asgi(kind: str, n: int) -> None:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as ac:
                    for _ in range(n):
                        if kind == "lookup":
                            r = await ac.post(
                                "/v1/hashes/lookup", content=body, headers={"Content-Type": "application/json"}
                            )
                        else:
                            meta = json.dumps({"external_id": f"a{os.getpid()}-{next(seq)}", "surface": "upload"})
                            r = await ac.post(
                                "/v1/content", files={"file": ("p.jpg", image, "image/jpeg")}, data={"metadata": meta}
                            )
                        assert r.status_code == 200, r.text

            def asgi_upload() -> None:
                asyncio.run(through_asgi("upload", 1))

            def asgi_lookup() -> None:
                asyncio.run(through_asgi("lookup", 1))

            for name, f in (("upload", asgi_upload), ("lookup", asgi_lookup)):
                p = Profiler(interval=0.0002)
                p.start()
                for _ in range(20):
                    f()
                p.stop()
                print(f"==== profile: 20 x {name} through ASGI, in this thread", file=sys.stderr)
                print(p.output_text(unicode=False, color=False, show_all=False), file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=None, help="default: /tmp/haven-bench-paths-<bank size>")
    ap.add_argument("--bank-size", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--against", default="", help="another checkout's src/ to measure in the same run")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs per checkout (medians)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    work = args.work or Path(f"/tmp/haven-bench-paths-{args.bank_size}")
    if args.child:
        print(json.dumps(measure(work, args.rounds, args.profile)))
        return
    setup(work, args.bank_size)
    trees = {"branch": str(ROOT / "src")} | ({"against": args.against} if args.against else {})
    runs: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    for r in range(args.repeat):
        for name, src in trees.items():
            env = dict(os.environ, PYTHONPATH=src)
            cmd = [sys.executable, __file__, "--child", "--work", str(work), "--bank-size", str(args.bank_size)]
            cmd += ["--rounds", str(args.rounds)] + (["--profile"] if args.profile and r == 0 else [])
            got = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
            if args.profile and r == 0:
                print(got.stderr, file=sys.stderr)
            runs[name].append(json.loads(got.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1} {name}: load {os.getloadavg()[0]:.2f} {runs[name][-1]}", flush=True)
    med = {t: {k: round(statistics.median(x[k] for x in v), 3) for k in v[0]} for t, v in runs.items()}
    print(f"{'stage (ms, median)':<24}" + "".join(f"{t:>12}" for t in trees) + ("       ratio" if args.against else ""))
    for k in med["branch"]:
        row = f"{k:<24}" + "".join(f"{med[t].get(k, float('nan')):>12.3f}" for t in trees)
        if args.against and med["against"].get(k):
            row += f"{med['branch'][k] / med['against'][k]:>12.2f}"
        print(row)
    print("RESULT " + json.dumps({"paths": med, "bank_size": args.bank_size, "loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
