"""External adapters against their local doubles on loopback: requests, answers, breaker, timeout."""

from __future__ import annotations

import time

import numpy as np
import pytest

from haven.classify import ClassifierUnavailable, Content, Registry
from haven.classify.external import CircuitBreaker, GoogleContentSafety, Hive, ThornSafer
from haven.core.settings import Settings
from tests.classify import doubles
from tests.helpers import sample


@pytest.fixture(scope="module")
def double():
    with doubles.serve() as d:
        yield d


def _settings(tmp_path, url: str, **kw) -> Settings:
    return Settings(
        var_dir=tmp_path,
        thorn_safer_url=url,
        thorn_safer_key=doubles.KEY,
        google_csapi_url=url,
        google_csapi_key=doubles.KEY,
        hive_url=url,
        hive_key=doubles.KEY,
        external_timeout_seconds=kw.pop("timeout", 2.0),
        breaker_failures=kw.pop("failures", 2),
        breaker_reset_seconds=kw.pop("reset", 0.3),
        **kw,
    )


IMG = Content.of_image(np.asarray(sample("coffee")))


def test_each_adapter_sends_what_its_service_expects(double, tmp_path) -> None:
    url, app = double
    app.state.score, app.state.fail, app.state.delay = 0.7, 0, 0.0
    s = _settings(tmp_path, url)
    safer = ThornSafer(url, doubles.KEY, s).classify(IMG)
    assert safer.scores == pytest.approx({"csam": 0.7, "pornography": 0.35, "other": 0.0})
    assert safer.version == "safer-double-1"
    google = GoogleContentSafety(url, doubles.KEY, s).classify(IMG)
    assert google.scores == {"priority": 0.75} and google.version == "csapi-double"  # HIGH
    hive = Hive(url, doubles.KEY, s).classify(IMG)
    assert hive.scores == pytest.approx({"csam": 0.7, "not_csam": 0.3})
    assert app.state.calls[-3:] == ["/v1/classify/image", "/v1beta1/images:classify", "/api/v2/task/sync"]


def test_wrong_key_is_a_failure_not_a_score(double, tmp_path) -> None:
    url, app = double
    app.state.fail, app.state.delay = 0, 0.0
    s = _settings(tmp_path, url)
    for cls in (ThornSafer, GoogleContentSafety, Hive):
        with pytest.raises(ClassifierUnavailable, match="HTTPStatusError"):
            cls(url, "wrong", s).classify(IMG)


def test_unconfigured_adapter_is_unavailable_and_registry_records_it(tmp_path) -> None:
    s = Settings(var_dir=tmp_path, classifiers={"*": ["hive"]})
    with pytest.raises(ClassifierUnavailable, match="not configured"):
        Hive(s.hive_url, "", s).classify(IMG)
    out = Registry(s).run("upload", IMG)
    assert out["hive"]["scores"] == {} and "not configured" in out["hive"]["unavailable"]


def test_circuit_breaker_opens_then_half_opens_and_closes(double, tmp_path) -> None:
    url, app = double
    app.state.delay, app.state.score = 0.0, 0.2
    hive = Hive(url, doubles.KEY, _settings(tmp_path, url, failures=2, reset=0.3))
    app.state.fail = 2
    for _ in range(2):
        with pytest.raises(ClassifierUnavailable, match="503"):
            hive.classify(IMG)
    calls = len(app.state.calls)
    with pytest.raises(ClassifierUnavailable, match="circuit open"):
        hive.classify(IMG)
    assert len(app.state.calls) == calls  # no request while open
    time.sleep(0.35)
    assert hive.breaker.state == "half_open"
    assert hive.classify(IMG).scores["csam"] == pytest.approx(0.2)
    assert hive.breaker.state == "closed"


def test_timeout_counts_as_failure(double, tmp_path) -> None:
    url, app = double
    app.state.fail, app.state.delay = 0, 0.5
    safer = ThornSafer(url, doubles.KEY, _settings(tmp_path, url, timeout=0.1, failures=1))
    t = time.monotonic()
    with pytest.raises(ClassifierUnavailable, match="Timeout"):
        safer.classify(IMG)
    assert time.monotonic() - t < 0.45
    assert safer.breaker.state == "open"
    app.state.delay = 0.0


def test_breaker_unit() -> None:
    b = CircuitBreaker(failures=3, reset_seconds=60)
    b.failure()
    b.failure()
    assert b.allow()
    b.success()
    b.failure()
    b.failure()
    assert b.state == "closed"
    b.failure()
    assert b.state == "open" and not b.allow()
