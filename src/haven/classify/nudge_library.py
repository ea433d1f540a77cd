"""The library of nudge messages an operator can edit: a YAML file (`HAVEN_NUDGE_LIBRARY_FILE`),
one entry per risk family, each with the research that backs it.

```yaml
grooming:
  title: Something about this chat may not be safe
  body: Someone who asks you to keep secrets ... You are not in trouble.
  research:                      # at least one source: why this wording helps
    - source: "Lorenzo-Dus, Izura & Pérez-Tattam (2016), Discourse, Context & Media 12"
      url: https://doi.org/10.1016/j.dcm.2016.02.004
      supports: grooming moves through trust, secrecy and isolation; naming them helps a child see them
  translations:                  # optional, per language
    es: {title: "...", body: "..."}
```

A family the file leaves out keeps the shipped message (`haven.classify.interventions.NUDGES`).
Localisation, for a language `lang`: the file's own translation; else the `nudges` catalogue's
translation of the operator's text (present when they kept a shipped text); else the shipped
message translated by the catalogue (a child reads their language rather than the operator's
English), marked `"library": "shipped"`; else the operator's English. The file is read and
validated once when the application starts (`load_library`, called by `create_app`): a mistake
is one clear error naming the file and the field, never a nudge that fails at the moment of risk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from haven.core import i18n


class NudgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAVEN_", env_file=None, extra="ignore")

    #: The operator's library of nudge messages (YAML); unset means the shipped texts.
    nudge_library_file: Path | None = None


class Research(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=3, max_length=300, description="author(s), year, venue or publisher")
    url: str | None = Field(None, max_length=500)
    supports: str = Field(min_length=3, max_length=500, description="what in the message it backs")

    @field_validator("url")
    @classmethod
    def _https(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("https://"):
            raise ValueError("must be an https:// address")
        return v


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Shown to a child at the moment of risk: short, plain, never accusing.
    title: str = Field(min_length=3, max_length=120)
    body: str = Field(min_length=10, max_length=600)


class Entry(Text):
    research: list[Research] = Field(min_length=1)
    translations: dict[str, Text] = Field(default_factory=dict)

    @field_validator("translations")
    @classmethod
    def _langs(cls, v: dict[str, Text]) -> dict[str, Text]:
        for lang in v:
            if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", lang):
                raise ValueError(f"'{lang}' is not a language code like 'es' or 'pt_BR'")
        return v


@dataclass(frozen=True)
class Message:
    family: str
    title: str
    body: str
    lang: str
    library: str  # "operator" or "shipped"


def _shipped() -> dict[str, Entry]:
    from haven.classify.interventions import NUDGES, RESEARCH

    return {f: Entry(**texts, research=RESEARCH[f]) for f, texts in NUDGES.items()}


def parse_library(text: str, source: str = "the nudge library") -> dict[str, Entry]:
    """Validate a library file's text; `ValueError` with the file and field on any mistake."""
    from haven.classify.interventions import NUDGES

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{source}: expected a mapping of risk family to message ({', '.join(NUDGES)})")
    out: dict[str, Entry] = {}
    for family, body in raw.items():
        if family not in NUDGES:
            raise ValueError(f"{source}: unknown risk family '{family}' (known: {', '.join(NUDGES)})")
        try:
            out[family] = Entry.model_validate(body)
        except ValidationError as exc:
            e = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in (family, *e["loc"]))
            raise ValueError(f"{source}: {where}: {e['msg']}") from None
    return out


@lru_cache(maxsize=4)
def _load(path: Path | None) -> dict[str, tuple[Entry, str]]:
    library = {f: (e, "shipped") for f, e in _shipped().items()}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"HAVEN_NUDGE_LIBRARY_FILE {path}: cannot read it ({exc.strerror})") from None
        for family, entry in parse_library(text, f"HAVEN_NUDGE_LIBRARY_FILE {path}").items():
            library[family] = (entry, "operator")
    return library


def load_library() -> dict[str, tuple[Entry, str]]:
    """family -> (entry, "operator" | "shipped"), from the configured file over the shipped texts."""
    return _load(NudgeSettings().nudge_library_file)


def _translated(lang: str, english: str) -> str | None:
    if lang == i18n.SOURCE_LANGUAGE:
        return english
    out = i18n.gettext("nudges", lang, english)
    return out if out != english else None


def message(family: str, lang: str = i18n.SOURCE_LANGUAGE) -> Message:
    """The message for one family in `lang`, by the fallbacks in the module's docstring."""
    entry, library = load_library()[family]
    own = entry.translations.get(lang)
    if own is not None:
        return Message(family, own.title, own.body, lang, library)
    title, body = _translated(lang, entry.title), _translated(lang, entry.body)
    if title is not None and body is not None:
        return Message(family, title, body, lang, library)
    if library == "operator":
        shipped = _shipped()[family]
        title, body = _translated(lang, shipped.title), _translated(lang, shipped.body)
        if title is not None and body is not None:
            return Message(family, title, body, lang, "shipped")
    return Message(family, entry.title, entry.body, i18n.SOURCE_LANGUAGE, library)
