"""The shipped local models on benign stand-ins: scores, faces, registry per surface."""

from __future__ import annotations

import numpy as np
import pytest

from haven.classify import ClassifierUnavailable, Content, LabelledScores, Registry
from haven.classify.local import ApparentAge, OpenNsfw, minor_likelihood
from haven.core.settings import Settings
from tests.helpers import sample


def _rgb(name: str) -> np.ndarray:
    return np.asarray(sample(name))


def test_opennsfw_scores_benign_photographs_low() -> None:
    clf = OpenNsfw()
    scores = {
        n: clf.classify(Content.of_image(_rgb(n))).scores["nsfw"] for n in ("astronaut", "coffee", "chelsea", "rocket")
    }
    assert all(0.0 <= v < 0.3 for v in scores.values()), scores
    # Different pictures give different scores (the model really ran).
    assert len({round(v, 4) for v in scores.values()}) == 4


def test_apparent_age_finds_the_adult_face_and_no_face_elsewhere() -> None:
    clf = ApparentAge()
    astro = clf.classify(Content.of_image(_rgb("astronaut")))
    (face,) = astro.details["faces"]
    assert astro.scores["face"] > 0.5
    assert 20 <= face["age"] <= 60 and astro.scores["minor"] == minor_likelihood(face["age"]) < 0.5
    x0, y0, x1, y1 = face["box"]
    assert 100 < x0 < x1 < 350 and 0 <= y0 < y1 < 260  # the astronaut's head, top centre-left
    cup = clf.classify(Content.of_image(_rgb("coffee")))
    assert cup.scores == {"face": 0.0, "minor": 0.0} and cup.details["faces"] == []


def test_minor_likelihood_is_soft_and_bounded() -> None:
    assert minor_likelihood(8) == 1.0 and minor_likelihood(40) == 0.0
    assert 0 < minor_likelihood(19) < 1 and minor_likelihood(16) > minor_likelihood(20)


class _Broken:
    name = "broken"
    version = "0"
    kinds = frozenset({"image"})

    def classify(self, content: Content) -> LabelledScores:
        raise ClassifierUnavailable("model file missing")


class _Text:
    name = "texty"
    version = "1"
    kinds = frozenset({"text"})

    def classify(self, content: Content) -> LabelledScores:
        return LabelledScores(self.name, self.version, {"x": 1.0})


def test_registry_runs_the_surface_classifiers_and_records_unavailable(tmp_path) -> None:
    settings = Settings(var_dir=tmp_path, classifiers={"message": ["opennsfw", "broken", "texty"], "*": ["opennsfw"]})
    reg = Registry(settings, extra={"broken": _Broken(), "texty": _Text()})
    out = reg.run("message", Content.of_image(_rgb("coffee")))
    assert set(out) == {"opennsfw", "broken"}  # the text classifier does not take images
    assert out["broken"] == {"version": "0", "scores": {}, "unavailable": "model file missing"}
    assert 0 <= out["opennsfw"]["scores"]["nsfw"] < 0.3 and out["opennsfw"]["version"].startswith("open_nsfw")
    assert reg.names_for("upload") == ["opennsfw"] and reg.names_for(None) == ["opennsfw"]
    with pytest.raises(ValueError, match="unknown classifiers: nope"):
        Registry(Settings(var_dir=tmp_path, classifiers={"*": ["nope"]}))
