"""The training gate: modules shipped as Markdown in the package, admins' edits kept as
versions, completion records with dates. A person may claim child-safety tasks only while every
required module was completed within the refresh period (and after its last edit that required a
refresh)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haven.core.clock import now
from haven.core.errors import Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.staff.config import StaffSettings, staff_settings
from haven.staff.models import StaffMember, TrainingCompletion, TrainingModuleVersion

MODULES_DIR = Path(__file__).resolve().parent / "training_modules"
#: Modules everyone reads, in reading order; all are required for child-safety work.
CORE_MODULES = ("policy", "legal-duties", "reporting", "wellness")
#: Child-safety work needs the core modules and the calibration set (decided before live queues).
REQUIRED_FOR_CHILD_SAFETY = (*CORE_MODULES, "calibration")
#: Modules of one role's work, read by those who hold it (after the core ones).
ROLE_MODULES: dict[str, tuple[str, ...]] = {
    "legal": ("legal-requests", "evidence-handling"),
    "admin": ("evidence-handling",),
    "senior": ("financial-review",),
    "child_safety_reviewer": ("calibration", "financial-review"),
}
#: slug -> file, in reading order: the core, then each role's.
MODULES: tuple[str, ...] = CORE_MODULES + tuple(
    dict.fromkeys(slug for slugs in ROLE_MODULES.values() for slug in slugs)
)


def modules_for(roles: list[str] | frozenset[str] | set[str] | None) -> tuple[str, ...]:
    """The modules a person with these roles must read: the core ones and their roles' own."""
    if roles is None:
        return MODULES
    own = {slug for r in roles for slug in ROLE_MODULES.get(r, ())}
    return tuple(m for m in MODULES if m in CORE_MODULES or m in own)


@dataclass
class Module:
    slug: str
    title: str
    body: str
    version_id: str | None  # None: the packaged text
    #: Completions before this time do not count (the last edit that required a refresh).
    refresh_from: datetime | None


def _packaged(slug: str) -> tuple[str, str]:
    text = (MODULES_DIR / f"{slug}.md").read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else slug
    return first.lstrip("# ").strip() or slug, text


def get_module(session: Session, slug: str) -> Module:
    if slug not in MODULES:
        raise NotFound(f"no training module '{slug}'", code="module_not_found")
    versions = list(
        session.scalars(
            select(TrainingModuleVersion)
            .where(TrainingModuleVersion.slug == slug)
            .order_by(TrainingModuleVersion.created_at.desc(), TrainingModuleVersion.id.desc())
        )
    )
    refresh_from = next((v.created_at for v in versions if v.requires_refresh), None)
    if versions:
        v = versions[0]
        return Module(slug, v.title, v.body, v.id, refresh_from)
    title, body = _packaged(slug)
    return Module(slug, title, body, None, None)


def list_modules(session: Session) -> list[Module]:
    """Every module in its current version (one query for all of them)."""
    versions: dict[str, list[TrainingModuleVersion]] = {}
    for v in session.scalars(
        select(TrainingModuleVersion).order_by(TrainingModuleVersion.created_at.desc(), TrainingModuleVersion.id.desc())
    ):
        versions.setdefault(v.slug, []).append(v)
    out = []
    for slug in MODULES:
        vs = versions.get(slug, [])
        refresh_from = next((v.created_at for v in vs if v.requires_refresh), None)
        if vs:
            out.append(Module(slug, vs[0].title, vs[0].body, vs[0].id, refresh_from))
        else:
            title, body = _packaged(slug)
            out.append(Module(slug, title, body, None, None))
    return out


def edit_module(session: Session, slug: str, title: str, body: str, *, requires_refresh: bool, actor: str) -> Module:
    """Save an admin's edit as a new version (the history is kept)."""
    get_module(session, slug)
    title = title.strip()
    if not title or len(title) > 200 or not body.strip() or len(body) > 200_000:
        raise Invalid("a module needs a title (1-200 characters) and a body", code="invalid_module")
    v = TrainingModuleVersion(slug=slug, title=title, body=body, requires_refresh=requires_refresh, edited_by=actor)
    session.add(v)
    session.flush()
    record_event(
        session,
        "training.module_edited",
        subject_type="training_module",
        subject_id=slug,
        actor=actor,
        data={"version_id": v.id, "requires_refresh": requires_refresh},
    )
    audit(
        session,
        actor=actor,
        action="training.edit",
        object_type="training_module",
        object_id=slug,
        details={"version_id": v.id},
    )
    return get_module(session, slug)


@dataclass(frozen=True)
class Question:
    id: str
    q: str
    options: tuple[str, ...]
    answer: int
    why: str
    #: Material the question is about, shown above it (a calibration conversation).
    context: str = ""


#: The calibration set: conversations of the development evaluation set (written by a teammate
#: from the behaviour taxonomy, non-graphic, fictional) whose labels are the gold answers. Never
#: the held-out sets: those measure the detector and must stay unread.
CALIBRATION_IDS = (
    "dv-0018",
    "dv-0042",
    "dv-0064",
    "dv-0072",
    "dv-0003",
    "dv-0085",
    "dv-0053",
    "dv-0091",
    "dv-0022",
    "dv-0096",
)
CALIBRATION_OPTIONS = ("grooming", "sextortion", "no violation")


def _calibration() -> Quiz:
    from haven.classify.evaluation.sets import data_path, load_set

    by_id = {c.id: c for c in load_set(data_path("dev_v1.jsonl"))}
    questions = []
    for n, cid in enumerate(CALIBRATION_IDS, 1):
        c = by_id[cid]
        bands = ", ".join(f"{who}: {band.replace('_', '-')}" for who, band in sorted(c.bands.items()))
        lines = [f"{m.sender}: {m.text}" for m in c.messages]
        label = "no violation" if c.label == "benign" else c.label
        why = (
            f"{n}: {label} ({c.scene}"
            + (f"; {', '.join(b.replace('_', ' ') for b in c.behaviours)}" if c.behaviours else "")
            + (", already connected" if c.connected else ", not connected")
            + ")."
        )
        questions.append(
            Question(
                cid,
                f"Conversation {n} ({bands}; {'connected' if c.connected else 'not connected'}): your decision?",
                CALIBRATION_OPTIONS,
                CALIBRATION_OPTIONS.index(label),
                why,
                "\n".join(lines),
            )
        )
    return Quiz(0.8, tuple(questions))


@dataclass(frozen=True)
class Quiz:
    """Short questions about what a module says; reading it is not enough to complete it."""

    pass_mark: float
    questions: tuple[Question, ...]


@lru_cache(maxsize=16)
def quiz(slug: str) -> Quiz | None:
    """The module's quiz (`training_modules/<slug>.quiz.yaml`), or None when it has none."""
    if slug == "calibration":
        return _calibration()
    path = MODULES_DIR / f"{slug}.quiz.yaml"
    if not path.is_file():
        return None
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    questions = tuple(
        Question(
            str(q["id"]), str(q["q"]), tuple(str(o) for o in q["options"]), int(q["answer"]), str(q.get("why", ""))
        )
        for q in data.get("questions", [])
    )
    for q in questions:
        if not 0 <= q.answer < len(q.options):
            raise ValueError(f"{path.name}: question {q.id} has no option {q.answer}")
    return Quiz(float(data.get("pass_mark", 1.0)), questions)


@dataclass(frozen=True)
class QuizResult:
    score: float
    passed: bool
    wrong: tuple[Question, ...]


def mark(slug: str, answers: Mapping[str, str | int] | None) -> QuizResult | None:
    """Mark answers (question id -> option index) against the module's quiz."""
    qz = quiz(slug)
    if qz is None:
        return None
    given = dict(answers or {})
    wrong = []
    for q in qz.questions:
        try:
            ok = int(given.get(q.id, -1)) == q.answer
        except (TypeError, ValueError):
            ok = False
        if not ok:
            wrong.append(q)
    score = 1.0 - len(wrong) / len(qz.questions) if qz.questions else 1.0
    return QuizResult(round(score, 2), score + 1e-9 >= qz.pass_mark, tuple(wrong))


def correct_answers(slug: str) -> dict[str, str]:
    """The right answers (for set-up scripts and tests that need a trained person)."""
    qz = quiz(slug)
    return {q.id: str(q.answer) for q in qz.questions} if qz else {}


def complete_module(
    session: Session,
    staff: StaffMember,
    slug: str,
    *,
    actor: str,
    answers: Mapping[str, str | int] | None = None,
) -> TrainingCompletion:
    """Record a completion; a module with a quiz counts only when its answers reach the pass mark
    (422 `quiz_failed`, with what to read again; the attempt is audited either way)."""
    module = get_module(session, slug)
    result = mark(slug, answers)
    if result is not None and not result.passed:
        audit(
            session,
            actor=actor,
            action="training.quiz_failed",
            object_type="training_module",
            object_id=slug,
            details={"score": result.score, "wrong": [q.id for q in result.wrong]},
        )
        raise Invalid(
            f"not passed ({round(result.score * 100)}%): " + " ".join(q.why for q in result.wrong),
            code="quiz_failed",
            details={"score": result.score, "wrong": [q.id for q in result.wrong]},
        )
    row = TrainingCompletion(staff_id=staff.id, slug=slug, version_id=module.version_id, completed_at=now())
    session.add(row)
    session.flush()
    record_event(
        session,
        "training.completed",
        subject_type="staff",
        subject_id=staff.id,
        actor=actor,
        data={"module": slug, "version_id": module.version_id}
        | ({"score": result.score} if result is not None else {}),
    )
    return row


@dataclass
class ModuleStatus:
    slug: str
    title: str
    completed_at: datetime | None
    due_at: datetime | None  # when it must be redone; None when never done
    current: bool


def status(
    session: Session,
    staff_id: str,
    *,
    config: StaffSettings | None = None,
    modules: list[Module] | None = None,
    roles: list[str] | frozenset[str] | set[str] | None = None,
) -> list[ModuleStatus]:
    """Each module's state for one person (with `roles`: only the modules of those roles)."""
    cfg = config or staff_settings()
    period = timedelta(days=round(cfg.training_refresh_months * 365.25 / 12))
    last: dict[str, datetime] = {
        slug: when
        for slug, when in session.execute(
            select(TrainingCompletion.slug, func.max(TrainingCompletion.completed_at))
            .where(TrainingCompletion.staff_id == staff_id)
            .group_by(TrainingCompletion.slug)
        ).tuples()
    }
    t = now()
    out = []
    wanted = set(modules_for(roles))
    for m in modules or list_modules(session):
        if m.slug not in wanted:
            continue
        done = last.get(m.slug)
        if done is not None and done.tzinfo is None:
            from datetime import UTC

            done = done.replace(tzinfo=UTC)
        valid = done is not None and (m.refresh_from is None or done >= m.refresh_from)
        due = done + period if done is not None and valid else None
        out.append(ModuleStatus(m.slug, m.title, done, due, bool(valid and due and due > t)))
    return out


def is_current(session: Session, staff_id: str, *, config: StaffSettings | None = None) -> bool:
    """True when every module required for child-safety work is current."""
    st = {s.slug: s for s in status(session, staff_id, config=config)}
    return all(st[slug].current for slug in REQUIRED_FOR_CHILD_SAFETY)


def who_is_due(
    session: Session, *, config: StaffSettings | None = None
) -> list[tuple[StaffMember, list[ModuleStatus]]]:
    """Active staff with at least one module not current (for the admins' page)."""
    modules = list_modules(session)
    rows = []
    for staff in session.scalars(
        select(StaffMember).where(StaffMember.disabled_at.is_(None)).order_by(StaffMember.email)
    ):
        st = status(session, staff.id, config=config, modules=modules, roles=staff.roles or [])
        if not all(s.current for s in st):
            rows.append((staff, st))
    return rows
