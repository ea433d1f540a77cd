"""Test inputs that always produce each verdict, for services writing integration tests against
a local Haven (documented in docs/integration.md, "Test mode").

The `test` bank holds hashes of benign pictures Haven draws itself (`haven.signals.stand_ins`),
banked *as if* they were known material, plus two fixed SHA-256 values for the hash-lookup path.
It is created on demand (by `haven integration create --mode test`, or `ensure_test_bank`), and
its entries only ever match traffic of test-mode keys: a live key's upload or lookup never sees
them (`excluded_bank`), so a production deployment can hold the bank safely.

    upload test-block.png (stand-in seed 7001)   -> block  (known_material.block)
    upload test-review.png (stand-in seed 7002)  -> review (known_material.quarantined_entry)
    upload test-allow.png (stand-in seed 7003)   -> allow  (no_match.allow)
    lookup sha256 TEST_SHA256["block"]            -> block
    lookup sha256 TEST_SHA256["review"]           -> review
    message TEST_TEXTS["allow"]                   -> allow  (no_match.allow)
    messages TEST_TEXTS["sextortion_warning"]     -> the last one: allow (conversation.sextortion_warning:
                                                     flagged for review, a nudge to the recipient)

`python -m haven.intake.testmode DIR` writes the three pictures to DIR and prints the table.
"""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.banks.formats import EntryIn
from haven.banks.models import Bank, BankEntry
from haven.banks.service import add_entries, create_bank, quarantine_entry
from haven.signals.image import bank_variants
from haven.signals.stand_ins import synthetic_picture

TEST_BANK = "test"
#: Stand-in seeds of the test pictures, by the verdict their upload gets.
TEST_PICTURE_SEEDS: dict[str, int] = {"block": 7001, "review": 7002, "allow": 7003}
#: Fixed SHA-256 values for `POST /v1/hashes/lookup` (they are the hashes of these ASCII
#: strings, so anyone can recompute them; they are the hash of no picture).
TEST_SHA256: dict[str, str] = {
    verdict: hashlib.sha256(f"haven test mode: {verdict}".encode()).hexdigest() for verdict in ("block", "review")
}
#: Message texts by the verdict (and rule) they produce; a list is one conversation, in order,
#: and its last message gets the verdict (the ones before it get `no_match.allow`).
TEST_TEXTS: dict[str, list[str]] = {
    "allow": ["see you at practice tomorrow, bring the blue ball"],
    "sextortion_warning": [
        "hey",
        "i have ur pics",
        "pay me $200 in steam cards or i will send them to all ur friends",
    ],
}
_REVIEW_REASON = "test mode: this entry always sends its matches to review"


def picture_for(verdict: str) -> bytes:
    """The PNG whose upload gets `verdict` from a test-mode key (lossless, so its PDQ is stable)."""
    buf = io.BytesIO()
    synthetic_picture(TEST_PICTURE_SEEDS[verdict]).save(buf, "PNG")
    return buf.getvalue()


def ensure_test_bank(session: Session, *, actor: str) -> Bank:
    """Create the `test` bank and its entries if missing (idempotent), in the caller's transaction."""
    bank = session.scalar(select(Bank).where(Bank.name == TEST_BANK))
    if bank is None:
        bank = create_bank(
            session,
            name=TEST_BANK,
            kind="known_csam",
            actor=actor,
            description="TEST MODE ONLY: benign generated pictures; matches only test-mode keys' traffic",
            default_classification="A1",
        )
    for verdict in ("block", "review"):
        data = picture_for(verdict)
        hashes, _ = bank_variants(data, max_pixels=100_000_000)
        ref = f"test-{verdict}"
        entries = [EntryIn("pdq", hashes.pdq, None, ref), EntryIn("sha256", TEST_SHA256[verdict], None, ref)]
        add_entries(session, bank, entries, actor=actor)  # duplicates of live entries are skipped
        if verdict == "review":
            for entry in session.scalars(
                select(BankEntry).where(
                    BankEntry.bank_id == bank.id, BankEntry.source_ref == ref, BankEntry.quarantined_at.is_(None)
                )
            ):
                quarantine_entry(session, entry.id, _REVIEW_REASON, actor=actor)
    session.flush()
    return bank


def test_bank_id(session: Session) -> str | None:
    return session.scalar(select(Bank.id).where(Bank.name == TEST_BANK))


def excluded_bank(session: Session, test_mode: bool) -> str | None:
    """The bank a key's traffic must not match: the test bank, for a live key (its pictures are
    stand-ins, but a live service must never get a verdict from test data)."""
    return None if test_mode else test_bank_id(session)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m haven.intake.testmode DIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for verdict in TEST_PICTURE_SEEDS:
        path = out / f"test-{verdict}.png"
        path.write_bytes(picture_for(verdict))
        print(f"upload {path} -> {verdict}")
    for verdict, value in TEST_SHA256.items():
        print(f"lookup sha256 {value} -> {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
