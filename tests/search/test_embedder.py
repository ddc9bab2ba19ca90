"""The embedder on the real MiniLM: ONNX Runtime (int8 and fp32, exported offline from the bundled
files) against torch, batching by token length, and the model id that names the variant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from catalog import ServiceUnavailable
from search import Embedder
from search.embedder import TOKEN_BUDGET, default_model_path
from search.onnx_export import cpu_int8_kernel, ensure_onnx_model, int8_file

TEXTS = [
    "Product: HP 301 black ink cartridge\nBrand: HP\nModel: CH561EE\nCategory: ink",
    "wireless mouse",
    "Product: Logitech C920 HD Pro webcam\nBrand: Logitech\nTechnical specifications:\n"
    "- connectivity technology: Wired\n- device interface: USB 2.0",
    "Product: Intel Xeon L5410 processor 2.33 GHz 12 MB L2\nBrand: Intel\nModel: L5410",
    " ".join(["a very long description of a laptop bag with many pockets"] * 20),
]


@pytest.mark.model
def test_default_is_onnx_int8_with_the_detected_kernel(embedder: Any) -> None:
    kernel = cpu_int8_kernel()
    variant = f"onnx-int8-{kernel}" if kernel else "onnx-fp32"
    assert embedder.model_id == f"all-MiniLM-L6-v2+{variant}"


@pytest.mark.model
def test_documents_are_normalised_and_keep_their_order(embedder: Any) -> None:
    """Batches are cut by token length (sorted), but rows come back in the caller's order.
    (int8 scales activations per call, so a text's vector moves slightly with its batch.)"""
    docs = embedder.embed_documents(TEXTS)
    assert docs.shape == (len(TEXTS), 384) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    alone = np.vstack([embedder.embed_documents([t]) for t in TEXTS])
    sims = docs @ alone.T
    assert list(np.argmax(sims, axis=1)) == list(range(len(TEXTS)))
    assert float(np.min(np.diag(sims))) > 0.98
    assert embedder.embed_documents([]).shape == (0, 384)


@pytest.mark.model
def test_queries_and_documents_share_one_space(embedder: Any) -> None:
    """Two sessions (1 thread for queries, every core for documents) over the same file."""
    doc = embedder.embed_documents(["wireless mouse"])[0]
    query = np.array(embedder.embed_query("Wireless   MOUSE"))
    assert float(doc @ query) > 0.9999
    ink = np.array(embedder.embed_query("hp ink cartridge"))
    docs = embedder.embed_documents(TEXTS[:2])
    assert float(docs[0] @ ink) > float(docs[1] @ ink)  # it still means something


@pytest.mark.model
def test_batches_are_sorted_bounded_and_cover_every_text(embedder: Any) -> None:
    texts = [TEXTS[i % len(TEXTS)] for i in range(300)]
    lengths = embedder.token_lengths(texts)
    assert max(lengths) == embedder.max_seq_length  # the long text is truncated
    batches = embedder.batches(texts)
    assert sorted(i for b in batches for i in b) == list(range(300))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat)
    for batch in batches:
        assert len(batch) <= embedder.batch_size
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= TOKEN_BUDGET


@pytest.mark.slow
@pytest.mark.model
def test_onnx_agrees_with_torch_and_each_variant_has_its_own_id(tmp_path: Path) -> None:
    """fp32 is the same model (cosine ~1); int8 stays close (the README reports the bench's
    min and median on 1,000 chunk texts)."""
    torch = Embedder(backend="torch", threads=1)
    fp32 = Embedder(backend="onnx", quantize="fp32", model_dir=tmp_path, threads=1)
    int8 = Embedder(backend="onnx", quantize="int8", model_dir=tmp_path, threads=1)
    ids = {e.model_id for e in (torch, fp32, int8)}
    assert len(ids) == 3 and "all-MiniLM-L6-v2+torch-fp32" in ids
    base = torch.embed_documents(TEXTS)
    assert np.min(np.sum(fp32.embed_documents(TEXTS) * base, axis=1)) > 0.9999
    if int8.quantize == "int8":
        assert np.min(np.sum(int8.embed_documents(TEXTS) * base, axis=1)) > 0.98
    q = "usb c cable 2m"
    assert float(np.dot(fp32.embed_query(q), torch.embed_query(q))) > 0.9999


@pytest.mark.slow
@pytest.mark.model
def test_export_is_offline_from_a_copy_and_happens_once(tmp_path: Path) -> None:
    """A source whose config.json lacks ``model_type`` (optimum needs it) is exported from a
    copy with it filled in; the source is not touched, and a second call reuses the files."""
    source = tmp_path / "minilm"
    shutil.copytree(default_model_path(), source)
    config = json.loads((source / "config.json").read_text())
    config.pop("model_type", None)
    (source / "config.json").write_text(json.dumps(config))
    before = (source / "config.json").read_text()
    kernel = cpu_int8_kernel() or "avx2"
    path, name = ensure_onnx_model(str(source), tmp_path / "models", "int8", kernel)
    assert name == int8_file(kernel) and (path / name).is_file()
    assert json.loads((path / "config.json").read_text())["model_type"] == "bert"
    assert not (path / "model.safetensors").exists()  # the export needs no torch weights
    assert (source / "config.json").read_text() == before
    stamp = (path / name).stat().st_mtime_ns
    again, _ = ensure_onnx_model(str(source), tmp_path / "models", "int8", kernel)
    assert again == path and (path / name).stat().st_mtime_ns == stamp
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no leftovers


@pytest.mark.model
def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    broken = Embedder(str(tmp_path / "nowhere"), backend="onnx", model_dir=tmp_path)
    with pytest.raises(ServiceUnavailable) as info:
        broken.embed_query("anything")
    assert info.value.setting == "SHOPKEEPER_EMBEDDING_MODEL"
    assert "nowhere" in info.value.message


@pytest.mark.parametrize(("features", "kernel"), [
    ({"AVX2": True, "AVX512F": True, "AVX512BW": True, "AVX512VNNI": True}, "avx512_vnni"),
    ({"AVX2": True, "AVX512F": True, "AVX512BW": True}, "avx512"),
    ({"AVX2": True, "AVX512VNNI": False}, "avx2"),
])
def test_the_int8_kernel_follows_the_cpu(
    monkeypatch: pytest.MonkeyPatch, features: dict[str, bool], kernel: str
) -> None:
    import search.onnx_export as export

    monkeypatch.setattr(export, "_cpu_features", lambda: features)
    assert export.cpu_int8_kernel() == kernel


def test_torch_is_always_fp32_and_no_int8_kernel_means_fp32(tmp_path: Path) -> None:
    assert Embedder(backend="torch", quantize="int8").variant == "torch-fp32"
    assert Embedder(backend="onnx", model_dir=tmp_path, quantize="int8",
                    int8_kernel="avx2").variant == "onnx-int8-avx2"
    with pytest.raises(ValueError, match="model_dir"):
        Embedder(backend="onnx")


def test_counting_tokens_while_another_thread_encodes_is_safe(embedder: Any) -> None:
    """The worker counts tokens while the warm-up thread encodes: that once failed "Already
    borrowed" (a fast tokenizer re-configured mid-encode) and left the model unloaded."""
    import threading

    texts = [f"USB-C power adapter {i} for a notebook, 65 W, black" for i in range(64)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def encode() -> None:
        try:
            while not stop.is_set():
                embedder.embed_documents(texts[:8])
                embedder.embed_query(f"charger {len(errors)}", cache=False)
        except BaseException as exc:  # the test reports any failure
            errors.append(exc)

    thread = threading.Thread(target=encode)
    thread.start()
    try:
        for _ in range(200):
            assert len(embedder.token_lengths(texts)) == len(texts)
    finally:
        stop.set()
        thread.join()
    assert errors == []
