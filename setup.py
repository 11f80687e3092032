"""The wheel carries the project's default files; everything else about the package is in pyproject.toml.

The checkout's top-level config/, notebooks/, data_contracts/, templates/ and .env.example are the one copy of
each default (the analyst's editable copies when the checkout is the project). A wheel needs them inside the
package, so building one copies them into boardpack/_defaults/, where boardpack/project.py finds them. An
editable install reads them where they are, and copies nothing.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# what boardpack/project.py takes as defaults (OVERRIDABLE) and what `boardpack init` copies (config/recipients.toml, .env.example)
DEFAULTS = ("config", "notebooks", "data_contracts", "templates", ".env.example")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".DS_Store")


class BuildWithDefaults(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "boardpack" / "_defaults"
        shutil.rmtree(target, ignore_errors=True)  # a file deleted from the checkout must not stay in the wheel
        target.mkdir(parents=True)
        for name in DEFAULTS:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=SKIP)
            elif source.is_file():
                shutil.copy2(source, target / name)
            else:
                raise FileNotFoundError(f"{source}: a default file the wheel must carry is missing")


setup(cmdclass={"build_py": BuildWithDefaults})
