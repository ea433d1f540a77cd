"""`haven demo seed`: a newcomer's first five minutes.

The demo bank holds hashes of benign pictures that Haven draws itself (shapes and gradients),
labelled *as if* they were known material. No real abuse material is ever used.
"""

from __future__ import annotations

import io
import shlex
from pathlib import Path
from typing import Annotated

import typer
from PIL import Image

from haven.core.cli import CLI_ACTOR, console, database, handles_errors, settings
from haven.signals.stand_ins import synthetic_picture

demo_app = typer.Typer(help="Try Haven with benign stand-in data.", no_args_is_help=True)

DEMO_BANK = "demo-known-material"
DEMO_INTEGRATION = "demo"


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@demo_app.command("seed")
@handles_errors
def seed(
    count: Annotated[int, typer.Option(help="pictures in the demo bank")] = 5,
    folder: Annotated[Path | None, typer.Option(help="where to write the demo pictures")] = None,
) -> None:
    """Create a demo bank, an integration key, and print a curl command that gets `block`."""
    from sqlalchemy import func, select

    from haven.banks.models import BankEntry
    from haven.banks.service import add_entries, create_bank, entries_from_files, get_bank, list_banks
    from haven.core.auth import create_integration, find_integration, issue_key
    from haven.core.errors import NotFound

    s = settings()
    out = folder or (s.var_dir / "demo")
    out.mkdir(parents=True, exist_ok=True)
    banked: list[Path] = []
    for i in range(count):
        path = out / f"known-{i + 1}.jpg"
        path.write_bytes(_jpeg(synthetic_picture(1000 + i)))
        banked.append(path)
    # A re-encoded, resized copy of the first picture: it matches by PDQ, not by bytes.
    first = Image.open(banked[0])
    copy = out / "reupload-of-known-1.jpg"
    copy.write_bytes(_jpeg(first.resize((first.width * 3 // 4, first.height * 3 // 4)), quality=70))
    unrelated = out / "unrelated.jpg"
    unrelated.write_bytes(_jpeg(synthetic_picture(9999)))

    with database().session() as session:
        try:
            bank = get_bank(session, DEMO_BANK)
        except NotFound:
            bank = create_bank(
                session,
                name=DEMO_BANK,
                kind="known_csam",
                actor=CLI_ACTOR,
                description="DEMO ONLY: benign generated pictures labelled as if known material",
                default_classification="A1",
            )
        entries, variants, _ = entries_from_files(banked, classification="A1", max_pixels=s.max_image_pixels)
        added = add_entries(session, bank, entries, actor=CLI_ACTOR, variants=variants)
        session.flush()
        # What `haven bank list` counts: every enabled entry, the robustness variants included.
        in_bank = dict((b.name, n) for b, n in list_banks(session))[DEMO_BANK]
        variants_in_bank = session.scalar(
            select(func.count())
            .select_from(BankEntry)
            .where(BankEntry.bank_id == bank.id, BankEntry.enabled.is_(True), BankEntry.variant_of.is_not(None))
        )
        level = bank.robustness or "strong"
        try:
            integration = find_integration(session, DEMO_INTEGRATION)
            key = issue_key(session, integration)
        except NotFound:
            integration, key = create_integration(session, DEMO_INTEGRATION, ["intake", "banks:read"])

    console.print(
        f"demo bank [bold]{DEMO_BANK}[/bold]: {len(added)} new hash(es) of {count} pictures in {out} "
        f"(MD5, SHA-1, SHA-256 and PDQ of each); with {variants_in_bank} PDQ variants of them (crops and "
        f"rotations, robustness {level}), {in_bank} entries in all, as `haven bank list` shows",
        highlight=False,
    )
    console.print(f"demo integration [bold]{DEMO_INTEGRATION}[/bold]; API key (shown once):")
    print(key)
    console.print("\nWith `make run` (or `haven serve`) running, this upload gets a [bold]block[/bold] verdict:")
    meta = '{"external_id":"demo-1","uploader":"demo-user","surface":"upload"}'
    cmd = (
        f"curl -s -H {shlex.quote('Authorization: Bearer ' + key)} "
        f"-F file=@{shlex.quote(str(copy))} -F {shlex.quote('metadata=' + meta)} "
        f"{s.public_url}/v1/content"
    )
    print(cmd)
    console.print(f"\nand {unrelated.name} gets [bold]allow[/bold].")
