"""Extract uv and uvx from PyPI's `uv` wheel of one version, for this machine's architecture.

Usage: fetch_uv.py VERSION SIMPLE_INDEX_URL OUTPUT_DIR

The wheel is found through the PEP 691 JSON simple index (what pip and uv read, and what PyPI
mirrors serve) and its sha256 is checked against the index before anything is extracted.
"""

import hashlib
import json
import platform
import sys
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def pick(files: list[dict], version: str, arch: str) -> dict:
    prefix = f"uv-{version}-"
    wheels = [
        f
        for f in files
        if f["filename"].startswith(prefix)
        and f"manylinux2014_{arch}" in f["filename"]
        and not f.get("yanked")
    ]
    if not wheels:
        raise SystemExit(f"no manylinux2014 {arch} wheel of uv {version} in the index")
    return wheels[0]


def fetch(url: str, accept: str | None = None, timeout: int = 300) -> Any:
    """An https (or a mirror's http) response; never file: or another scheme."""
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise SystemExit(f"not an http(s) URL: {url}")
    headers = {"Accept": accept} if accept else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (scheme checked above)


def main(version: str, index: str, output: str) -> None:
    if not version:
        raise SystemExit("UV_VERSION is empty")
    arch = ARCHES.get(platform.machine())
    if arch is None:
        raise SystemExit(f"no uv wheel for {platform.machine()}")
    page = index.rstrip("/") + "/uv/"
    with fetch(page, "application/vnd.pypi.simple.v1+json", timeout=60) as response:
        files = json.load(response)["files"]
    wheel = pick(files, version, arch)
    url = urllib.parse.urljoin(page, wheel["url"])
    digest = hashlib.sha256()
    target = Path(output)
    target.mkdir(parents=True, exist_ok=True)
    download = target / wheel["filename"]
    with fetch(url) as response, download.open("wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != wheel["hashes"]["sha256"]:
        raise SystemExit(f"{wheel['filename']}: sha256 {digest.hexdigest()} is not the index's")
    with zipfile.ZipFile(download) as archive:
        for name in ("uv", "uvx"):
            member = f"uv-{version}.data/scripts/{name}"
            (target / name).write_bytes(archive.read(member))
            (target / name).chmod(0o755)
    download.unlink()
    print(f"uv {version}: {wheel['filename']} sha256 {digest.hexdigest()}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
