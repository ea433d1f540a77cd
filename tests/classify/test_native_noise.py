"""`haven eval` and the imagery models do not print TensorFlow Lite / absl start-up chatter, and
whatever else is written to stderr meanwhile still reaches the user (issue 18, item 10)."""

from __future__ import annotations

import os

import pytest

from haven.classify.local import native_stderr_filtered


def test_runtime_chatter_is_dropped_and_other_lines_are_kept(capfd: pytest.CaptureFixture[str]) -> None:
    with native_stderr_filtered():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"W0000 00:00:1796127152.848988    4719 inference_feedback_manager.cc:114] Feedback manager\n")
        os.write(2, b"error: the model file is damaged\n")
    err = capfd.readouterr().err
    assert err == "error: the model file is damaged\n"


def test_an_exception_inside_still_restores_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), native_stderr_filtered():
        os.write(2, b"E0000 real failure\n")
        raise RuntimeError("boom")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "E0000 real failure\nafter\n"


def test_the_face_model_loads_and_runs_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("mediapipe", reason="the `models` extra is not installed")
    import numpy as np

    from haven.classify import local

    local._models.pop("face", None)
    model = local._load("face")
    model.process(np.zeros((32, 32, 3), dtype=np.uint8))
    err = capfd.readouterr().err
    assert "TensorFlow Lite" not in err and "absl" not in err and ".cc:" not in err, err
