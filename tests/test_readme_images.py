"""The README shows the demo's maps, and one make target redraws every image it shows."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_image_the_readme_shows_exists_and_make_images_redraws_it() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r"!\[[^\]]*\]\((docs/images/[^)]+)\)", readme)
    assert {Path(p).name for p in shown} >= {
        "value-stream-current.png",
        "value-stream-future.png",
        "value-stream-compare.png",
        "flow-digest.png",
    }
    makefile = (ROOT / "Makefile").read_text()
    [images] = re.findall(r"^IMAGES := (.+)$", makefile, flags=re.MULTILINE)
    for path in shown:
        assert (ROOT / path).read_bytes().startswith(b"\x89PNG"), path
        assert Path(path).name in images.split(), path
