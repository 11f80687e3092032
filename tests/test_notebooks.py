"""The notebooks run top to bottom on their defaults, as an analyst runs them in JupyterLab."""

from __future__ import annotations

import json

import papermill as pm

from .conftest import ROOT


def test_notebooks_run_on_their_defaults(tmp_path):
    # Only the output folder is changed, so the test writes nowhere in the repository; the data and
    # configuration come from each notebook's own defaults (relative to notebooks/, as in JupyterLab).
    for name in ("01-validate", "02-metrics", "03-board-pack"):
        pm.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                            parameters={"output_dir": str(tmp_path / "out")}, cwd=str(ROOT / "notebooks"),
                            progress_bar=False, kernel_name="python3")
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["quarter"] == "2026-Q3"
    pack = json.loads((tmp_path / "03-board-pack.ipynb").read_text())
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for c in pack["cells"] for o in c.get("outputs", []))
    assert "Executive summary" in html and "<svg" in html
