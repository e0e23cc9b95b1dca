"""Install the Data Docs' libraries into web_assets/node_modules without Node.js.

Reads the direct dependencies of ``package.json`` at the versions and integrity hashes of
``package-lock.json``, downloads each package's tarball from the npm registry
(``NPM_CONFIG_REGISTRY``, default https://registry.npmjs.org/), checks it against the lock's
SHA-512 and unpacks it as ``npm ci`` would (``node_modules/<name>/``). The pages use only the
packages' prebuilt files (``dist/``, ``build/``), so their own dependencies are not needed.
Standard library only: ``make install`` runs it with nothing but Python.

    python web_assets/fetch.py [--dest web_assets/node_modules]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import tarfile
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def tarball_url(registry: str, name: str, version: str) -> str:
    """The registry's tarball of a package: ``<registry>/@scope/pkg/-/pkg-1.0.0.tgz``."""
    return f"{registry.rstrip('/')}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def check_integrity(data: bytes, integrity: str, name: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"{name}: the downloaded tarball does not match the lock's {algorithm}")


def unpack(data: bytes, target: Path) -> None:
    """The tarball's files (under its top folder, ``package/``) into ``target``; nothing may
    land outside it."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            parts = Path(member.name).parts[1:]
            if not parts or ".." in parts:
                continue
            path = target.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.extractfile(member).read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=HERE / "node_modules")
    args = parser.parse_args()
    registry = os.environ.get("NPM_CONFIG_REGISTRY") or "https://registry.npmjs.org/"
    wanted = json.loads((HERE / "package.json").read_text("utf-8"))["dependencies"]
    locked = json.loads((HERE / "package-lock.json").read_text("utf-8"))["packages"]
    for name in sorted(wanted):
        entry = locked[f"node_modules/{name}"]
        url = entry.get("resolved") or tarball_url(registry, name, entry["version"])
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
        check_integrity(data, entry["integrity"], name)
        unpack(data, args.dest / name)
        print(f"{name} {entry['version']}")


if __name__ == "__main__":
    main()
