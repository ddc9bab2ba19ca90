"""ONNX files for the embedding model: exported once from local files, offline, into a model dir.

sentence-transformers does the work (``backend="onnx"`` exports through optimum-onnx, and
``export_dynamic_quantized_onnx_model`` quantises to int8); this module only decides where the
files go, which int8 kernel variant this CPU runs, and makes each export appear whole or not at
all (built in a temporary sibling directory, then renamed), so two processes that start at once
never load a half-written model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

Quantize = Literal["int8", "fp32"]
Int8Kernel = Literal["avx512_vnni", "avx512", "avx2", "arm64"]
INT8_KERNELS: tuple[Int8Kernel, ...] = ("avx512_vnni", "avx512", "avx2", "arm64")
FP32_FILE = "onnx/model.onnx"

# The bundled config.json may lack ``model_type``, which optimum's exporter needs to pick the
# ONNX config; the architecture names it (``BertModel`` -> ``bert``).
_ARCHITECTURE_TYPES = {"BertModel": "bert", "XLMRobertaModel": "xlm-roberta",
                       "RobertaModel": "roberta", "MPNetModel": "mpnet"}


def cpu_int8_kernel() -> Int8Kernel | None:
    """The fastest int8 kernel variant this CPU runs, from numpy's runtime CPU detection.

    None when there is none (the caller then runs fp32). Detected, never assumed: a VNNI build
    on a CPU without AVX-512 would crash or crawl.
    """
    features = _cpu_features()
    if features.get("AVX512F") and features.get("AVX512VNNI"):
        return "avx512_vnni"
    if features.get("AVX512F") and features.get("AVX512BW"):
        return "avx512"
    if features.get("AVX2"):
        return "avx2"
    if features.get("ASIMD") or platform.machine().lower() in ("arm64", "aarch64"):
        return "arm64"
    return None


def _cpu_features() -> dict[str, bool]:
    import importlib

    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # 2.x, 1.x
        try:
            return dict(importlib.import_module(name).__cpu_features__)
        except (ImportError, AttributeError):
            continue
    return {}


def int8_file(kernel: Int8Kernel) -> str:
    """Named by us (``file_suffix``), not guessed: optimum's own name depends on the weight type
    (``model_quint8_avx2.onnx`` but ``model_qint8_avx512.onnx``)."""
    return f"onnx/model_int8_{kernel}.onnx"


def variant_dir(
    model_dir: Path, name: str, source: str, quantize: Quantize, kernel: Int8Kernel | None
) -> Path:
    """One directory per (source model, variant), so each export is complete on its own."""
    digest = hashlib.sha256(str(Path(source).resolve()).encode()).hexdigest()[:8]
    tag = "onnx-fp32" if quantize == "fp32" else f"onnx-int8-{kernel}"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "model"
    return model_dir / f"{safe}-{digest}" / tag


def ensure_onnx_model(
    source: str, model_dir: Path, quantize: Quantize, kernel: Int8Kernel | None, *, name: str = ""
) -> tuple[Path, str]:
    """The directory and ONNX file name to load; exports them first if they are not there yet.

    ``source`` is a local sentence-transformers directory (the bundled MiniLM by default); it is
    copied, never edited, and nothing is fetched from a hub.
    """
    if quantize == "int8" and kernel is None:
        raise ValueError("int8 needs a kernel variant (none detected on this CPU)")
    file_name = FP32_FILE if quantize == "fp32" else int8_file(kernel)  # type: ignore[arg-type]
    target = variant_dir(model_dir, name or Path(source).name, source, quantize, kernel)
    if (target / file_name).is_file():
        return target, file_name
    if not Path(source).is_dir():
        raise FileNotFoundError(f"{source}: the ONNX export needs the model's local files")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        log.info("exporting %s to ONNX (%s) in %s, once", source, quantize, target)
        _export(Path(source), work, quantize, kernel)
        try:
            os.replace(work, target)  # atomic: readers see no file or the whole export
        except OSError:
            if not (target / file_name).is_file():  # lost a race only if the winner finished
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target, file_name


@contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's tracer warnings and its advice to save (we do) are noise in a CLI."""
    loggers = [logging.getLogger(n) for n in ("sentence_transformers", "transformers", "optimum")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _export(source: Path, work: Path, quantize: Quantize, kernel: Int8Kernel | None) -> None:
    with _quiet():
        _export_files(source, work, quantize, kernel)


def _export_files(source: Path, work: Path, quantize: Quantize, kernel: Int8Kernel | None) -> None:
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    shutil.copytree(source, work, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("onnx", "openvino", "*.md", ".git*"))
    _add_model_type(work / "config.json")
    model: Any = SentenceTransformer(str(work), device="cpu", backend="onnx",
                                     model_kwargs={"export": True,
                                                   "provider": "CPUExecutionProvider"})
    model.save_pretrained(str(work))  # writes onnx/model.onnx beside the copied configs
    if quantize == "int8":
        export_dynamic_quantized_onnx_model(model, kernel, str(work),  # type: ignore[arg-type]
                                            file_suffix=f"int8_{kernel}")
        (work / FP32_FILE).unlink()  # the int8 variant loads only its own file
    for weights in ("model.safetensors", "pytorch_model.bin"):  # torch weights: not needed now
        (work / weights).unlink(missing_ok=True)


def _add_model_type(config_path: Path) -> None:
    """Fill in ``model_type`` from the architecture when the config lacks it (in the copy)."""
    config = json.loads(config_path.read_text())
    if config.get("model_type"):
        return
    for arch in config.get("architectures") or ():
        if arch in _ARCHITECTURE_TYPES:
            config["model_type"] = _ARCHITECTURE_TYPES[arch]
            config_path.write_text(json.dumps(config, indent=2))
            return
    raise ValueError(f"{config_path}: no model_type, and the architecture does not name one")
