"""docs/guide.md shows the app as the browser tests see it: every picture it names is in
docs/guide/, listed in SHOTS.tsv with the test that takes it, and that test takes it."""

from __future__ import annotations

import csv
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "guide.md"
SHOTS = REPO / "docs" / "guide" / "SHOTS.tsv"


def _rows() -> dict[str, dict[str, str]]:
    with SHOTS.open(newline="") as handle:
        return {row["image"]: row for row in csv.DictReader(handle, delimiter="\t")}


def test_every_picture_in_the_guide_is_one_a_browser_test_takes() -> None:
    named = re.findall(r"!\[[^\]]+\]\(guide/([^)]+)\)", GUIDE.read_text())
    assert named, "the guide shows no pictures"
    rows = _rows()
    for image in named:
        assert image in rows, f"{image}: not in docs/guide/SHOTS.tsv"
        assert (REPO / "docs" / "guide" / image).is_file(), f"{image}: run `make guide`"
        test = REPO / rows[image]["test"]
        shot = rows[image]["shot"].removesuffix(".png")
        assert f'"{shot}"' in test.read_text(), f"{image}: {test.name} takes no shot {shot!r}"


def test_every_picture_in_docs_guide_is_used() -> None:
    named = set(re.findall(r"\(guide/([^)]+)\)", GUIDE.read_text()))
    on_disk = {p.name for p in (REPO / "docs" / "guide").glob("*.png")}
    assert on_disk <= named, f"not in the guide (remove them): {sorted(on_disk - named)}"
    assert set(_rows()) <= named, "SHOTS.tsv lists pictures the guide does not show"
