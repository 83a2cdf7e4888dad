"""Build hook: the wheel carries the editor's page (the checkout's top-level app.py) as tarjama/app.py.

Everything else is declared in pyproject.toml.  The page stays at the repository's top, where
`python app.py` runs it in a checkout; installed, `tarjama serve` imports it as ``tarjama.app``, so
the wheel installs no top-level module named ``app`` (it would collide with a user's own app.py).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):  # an editable install reads the checkout itself
            target = Path(self.build_lib, "tarjama", "app.py")
            self.copy_file(str(Path(__file__).with_name("app.py")), str(target))


setup(cmdclass={"build_py": BuildPy})
