"""The lesson model: which lessons exist, and how a script splits into notebook cells.

A lesson's single source is jbang-scripts/<slug>.java in jupytext's "percent" format:
  // %% [markdown]   prose; each line starts with "//"
  // %%              Java declarations, valid for javac and for JShell alike
  // %% [run]        notebook-only statements, written as "// " comments so javac
                     ignores them; the notebook runs them uncommented
Lines before the first marker (shebang, //JAVA, //DEPS) belong to JBang only.
In prose, a line "@diagram <name>" stands for diagrams/<name>.mmd (image + source).
"""
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^// %%(?: \[(markdown|run)\])?\s*$")


@dataclass
class Cell:
    kind: str    # "markdown", "code" or "run"
    text: str


@dataclass
class Lesson:
    number: int
    slug: str

    @property
    def script(self) -> Path:
        return ROOT / "jbang-scripts" / f"{self.slug}.java"

    @property
    def notebook(self) -> Path:
        return ROOT / "notebooks" / f"{self.number:02d}_{self.slug}.ipynb"

    @property
    def test(self) -> Path:
        camel = "".join(part.capitalize() for part in self.slug.split("_"))
        return ROOT / "src" / "test" / "java" / f"{camel}Test.java"

    def diagrams(self) -> list[Path]:
        return sorted((ROOT / "diagrams").glob(f"{self.slug}*.mmd"))

    def cells(self) -> list[Cell]:
        return parse(self.script.read_text(encoding="utf-8"), str(self.script))

    def title(self) -> str:
        first = self.cells()[0]
        heading = first.text.splitlines()[0] if first.kind == "markdown" else ""
        if not heading.startswith("# "):
            raise ValueError(f"{self.script}: the first cell must be markdown starting '# Title'")
        return heading[2:].strip()


def lessons() -> list[Lesson]:
    lines = (ROOT / "lessons.txt").read_text(encoding="utf-8").splitlines()
    slugs = [s.strip() for s in lines if s.strip() and not s.startswith("#")]
    return [Lesson(n, slug) for n, slug in enumerate(slugs, start=1)]


def parse(source: str, name: str) -> list[Cell]:
    cells: list[Cell] = []
    kind, body = None, []

    def flush():
        if kind is None:
            return
        text = "\n".join(body).strip("\n")
        if text:
            cells.append(Cell(kind, text))

    for lineno, line in enumerate(source.splitlines(), start=1):
        m = MARKER.match(line)
        if m:
            flush()
            kind, body = (m.group(1) or "code"), []
        elif kind in ("markdown", "run"):
            if line.strip() and not line.startswith("//"):
                raise ValueError(f"{name}:{lineno}: a {kind} cell line must start with //")
            body.append(re.sub(r"^// ?", "", line))
        elif kind == "code":
            body.append(line)
    flush()
    if not cells:
        raise ValueError(f"{name}: no '// %%' cells found")
    return cells
