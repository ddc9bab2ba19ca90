"""``scripts/lock.py check``: the committed lock matches pyproject.toml, and a changed
dependency list is caught offline (the hash recorded in the lock's first line)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lock_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_script", ROOT / "scripts" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_lock_is_in_step_and_pins_no_torch_or_cuda() -> None:
    lock = lock_module()
    assert lock.check_lock() == 0
    pins = [ln for ln in (ROOT / "requirements.lock").read_text().splitlines()
            if "==" in ln and not ln.startswith("#")]
    assert pins and not any(p.startswith(("torch==", "nvidia-", "triton==")) for p in pins)
    assert any(p.startswith("opentelemetry-sdk==") for p in pins)


def test_a_dependency_change_without_make_lock_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    lock = lock_module()
    for name in ("pyproject.toml", "requirements-torch.txt", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.setattr(lock, "PYPROJECT", tmp_path / "pyproject.toml")
    monkeypatch.setattr(lock, "TORCH", tmp_path / "requirements-torch.txt")
    monkeypatch.setattr(lock, "LOCK", tmp_path / "requirements.lock")
    assert lock.check_lock() == 0
    text = (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(
        text.replace('"numpy>=1.26",', '"numpy>=1.26",\n  "left-pad>=1",', 1))
    assert lock.check_lock() == 1
    assert "make lock" in capsys.readouterr().err
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "requirements-torch.txt").write_text("torch==2.14.0\n")
    assert lock.check_lock() == 1, "the torch pin is an input too"
