"""The image's build stage runs this after installing the project: the installed package must be
the sources beside it, file for file, and every service must import from it.

uv keeps the wheel it built of the project in its cache (a BuildKit cache mount, kept from build
to build) and reinstalls it while pyproject.toml is unchanged: an image once shipped the code of
an earlier build, without the newest service, whose migration job then failed at start. The
build reinstalls the project (``--reinstall-package ctip``); this fails the build should that
ever stop being enough. Run with ``python -I``, so that nothing is imported from the sources.
"""

import importlib
import sys
from pathlib import Path

PACKAGES = ("libs", "services")


def files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for package in PACKAGES
        for path in (root / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def main(sources: Path) -> int:
    import services

    installed = Path(services.__path__[0]).resolve().parent
    if installed == sources.resolve():
        print(f"{installed}: imported from the sources, not the package", file=sys.stderr)
        return 1
    wanted, found = files(sources), files(installed)
    differ = sorted(name for name in wanted.keys() & found.keys() if wanted[name] != found[name])
    missing, stale = sorted(wanted.keys() - found.keys()), sorted(found.keys() - wanted.keys())
    if differ or missing or stale:
        print(
            f"not the sources: differ {differ}, missing {missing}, stale {stale}",
            file=sys.stderr,
        )
        return 1
    importlib.import_module("libs.common.cli")
    for app in sorted((sources / "services").glob("*/app.py")):
        importlib.import_module(f"services.{app.parent.name}.app")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
