"""Where media bytes live: content-addressed files, <root>/<sha[:2]>/<sha>/<variant>."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from flask import current_app

from cityapp.media.service.images import ORIGINAL, VARIANTS

SHA_RE = re.compile(r"^[0-9a-f]{64}$")


class MediaStorage(Protocol):
    """Where media bytes live. An object store implements the same four methods."""

    def put(self, key: str, data: bytes) -> None: ...

    def read(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, sha: str) -> None:
        """Remove the original and every variant stored under ``sha`` (missing is fine)."""

    def local_path(self, key: str) -> str | None:
        """A file path for efficient serving (sendfile, Range), or None for remote stores."""

    def stored(self) -> Iterator[tuple[str, float]]:
        """Every stored sha with the time (epoch seconds) its files were last written."""


class LocalDirectoryStorage:
    """Files under a directory: <root>/<sha[:2]>/<sha>/<variant>."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        sha, _, variant = key.partition("/")
        if not SHA_RE.match(sha) or variant not in (ORIGINAL, *VARIANTS):
            raise ValueError(f"bad media key {key!r}")
        return self.root / sha[:2] / sha / variant

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            # Content-addressed: same key, same bytes. Mark it written now, so the orphan
            # sweep leaves files that an upload in progress is about to reference.
            os.utime(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)  # atomic: readers never see half a file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def local_path(self, key: str) -> str | None:
        return str(self._path(key))

    def delete(self, sha: str) -> None:
        if not SHA_RE.match(sha):
            raise ValueError(f"bad media key {sha!r}")
        shutil.rmtree(self.root / sha[:2] / sha, ignore_errors=True)

    def stored(self) -> Iterator[tuple[str, float]]:
        if not self.root.is_dir():
            return
        for prefix in sorted(self.root.iterdir()):
            if not prefix.is_dir():
                continue
            for directory in sorted(prefix.iterdir()):
                if not SHA_RE.match(directory.name):
                    continue
                try:
                    times = [entry.stat().st_mtime for entry in directory.iterdir()]
                    times.append(directory.stat().st_mtime)
                except FileNotFoundError:  # deleted while we looked
                    continue
                yield directory.name, max(times)


def get_storage() -> MediaStorage:
    storage = current_app.extensions.get("cityapp.media_storage")
    if storage is None or getattr(storage, "root", None) != Path(
        current_app.config["CITYAPP_MEDIA_DIR"]
    ):
        storage = LocalDirectoryStorage(current_app.config["CITYAPP_MEDIA_DIR"])
        current_app.extensions["cityapp.media_storage"] = storage
    return storage
