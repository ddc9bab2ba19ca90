"""Locked installs: ``compile`` writes requirements.lock with pip-tools; ``check`` (CI, offline)
fails when the lock was compiled from other dependencies than pyproject.toml now lists.

The lock's first line records a SHA-256 of the inputs (the dependency lists of pyproject.toml
and the torch pin), so the check needs no network and no resolver.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
TORCH = ROOT / "requirements-torch.txt"
LOCK = ROOT / "requirements.lock"
MARK = "# inputs-sha256: "


def inputs_hash() -> str:
    """SHA-256 of what the lock is resolved from (order-insensitive, comments ignored)."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    torch = [ln.strip() for ln in TORCH.read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    data = {
        "requires-python": project.get("requires-python", ""),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {k: sorted(v) for k, v in
                                  sorted(project.get("optional-dependencies", {}).items())},
        "torch": sorted(torch),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def compile_lock() -> int:
    """Resolve pyproject.toml (with the dev extra) against the torch pin; torch stays out."""
    cmd = [sys.executable, "-m", "piptools", "compile", "--quiet", "--extra", "dev",
           "--strip-extras", "--no-emit-index-url", "--no-emit-find-links",
           "--unsafe-package", "torch", "--constraint", TORCH.name,
           "--output-file", LOCK.name, PYPROJECT.name]
    done = subprocess.run(cmd, cwd=ROOT, check=False)
    if done.returncode:
        return done.returncode
    LOCK.write_text(f"{MARK}{inputs_hash()}\n{LOCK.read_text()}")
    print(f"wrote {LOCK.name}")
    return 0


def check_lock() -> int:
    """0 when the lock matches the inputs; 1 with the command that fixes it."""
    if not LOCK.exists():
        print("lock: requirements.lock is missing; run `make lock`", file=sys.stderr)
        return 1
    first = LOCK.read_text().split("\n", 1)[0]
    if first != MARK + inputs_hash():
        print("lock: requirements.lock is out of step with pyproject.toml or "
              "requirements-torch.txt; run `make lock` and commit it", file=sys.stderr)
        return 1
    if any(ln.startswith("torch==") or ln.startswith("nvidia-")
           for ln in LOCK.read_text().splitlines()):
        print("lock: requirements.lock pins torch or CUDA packages; torch is installed "
              "alone from requirements-torch.txt", file=sys.stderr)
        return 1
    print("lock: ok")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command not in ("compile", "check"):
        sys.exit("usage: scripts/lock.py compile|check")
    sys.exit(compile_lock() if command == "compile" else check_lock())
