"""Model file resolution: explicit path, verified download, clear errors."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from analyzer.errors import ModelUnavailableError
from analyzer.landmarks import model


@pytest.fixture
def model_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server for a directory; yields (base URL, directory)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()


def test_explicit_path_is_used_as_given(monkeypatch, model_path: Path):
    monkeypatch.setenv(model.ENV_MODEL_PATH, str(model_path))
    assert model.resolve_model_path() == model_path.resolve()
    info = model.model_info(model_path)
    assert info.sha256 == hashlib.sha256(model_path.read_bytes()).hexdigest()
    assert info.to_dict() == {"name": "pose_landmarker_full", "sha256": info.sha256}


def test_missing_explicit_path_says_what_is_wrong(monkeypatch, tmp_path: Path):
    monkeypatch.setenv(model.ENV_MODEL_PATH, str(tmp_path / "nope.task"))
    with pytest.raises(ModelUnavailableError, match="POSE_MODEL_PATH is set to .*not a readable file"):
        model.resolve_model_path()


def test_download_is_verified_and_cached(monkeypatch, tmp_path: Path, model_server, model_path: Path):
    url, root = model_server
    (root / "model.task").write_bytes(model_path.read_bytes())
    monkeypatch.delenv(model.ENV_MODEL_PATH, raising=False)
    monkeypatch.setenv(model.ENV_CACHE_DIR, str(tmp_path / "cache"))
    monkeypatch.setattr(model, "MODEL_URL", f"{url}/model.task")
    monkeypatch.setattr(model, "MODEL_SHA256", hashlib.sha256(model_path.read_bytes()).hexdigest())
    path = model.resolve_model_path()
    assert path.parent == tmp_path / "cache" and path.read_bytes() == model_path.read_bytes()
    (root / "model.task").unlink()  # a second call must not download again
    assert model.resolve_model_path() == path


def test_download_with_the_wrong_hash_is_refused_and_not_kept(monkeypatch, tmp_path: Path, model_server):
    url, root = model_server
    (root / "model.task").write_bytes(b"not the model")
    monkeypatch.setattr(model, "MODEL_URL", f"{url}/model.task")
    with pytest.raises(ModelUnavailableError, match="Set POSE_MODEL_PATH"):
        model.download_model(tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*.task"))


def test_no_network_gives_a_clear_error(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(model, "MODEL_URL", "http://127.0.0.1:9/pose_landmarker_full.task")
    with pytest.raises(ModelUnavailableError, match="could not download the pose model.*POSE_MODEL_PATH"):
        model.download_model(tmp_path)
