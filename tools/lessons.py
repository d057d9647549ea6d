"""The lesson model: which lessons exist, in which groups, and how a script splits into cells.

A lesson's single source is jbang-scripts/<slug>.java in jupytext's "percent" format:
  // %% [markdown]   prose; each line starts with "//"
  // %%              Java declarations, valid for javac and for JShell alike
  // %% [run]        notebook-only statements, written as "// " comments so javac
                     ignores them; the notebook runs them uncommented
  // %% [show]       Java declarations the notebook shows but cannot run (for code
                     JShell cannot compile, e.g. JMH benchmarks, which need a package)
  // %% [main]       the script's entry point (class <slug> with main): script only,
                     never in the notebook
Lines before the first marker (shebang, //JAVA, //DEPS) belong to JBang only.
In prose, a line "@diagram <name>" stands for diagrams/<name>.mmd (image + source).

lessons.txt lists the slugs in reading order; a line "[Group title]" starts a group.
"""
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^// %%(?: \[(markdown|run|show|main)\])?\s*$")
GROUP = re.compile(r"^\[(.+)\]$")


@dataclass
class Cell:
    kind: str    # "markdown", "code", "run", "show" or "main"
    text: str
    line: int    # where the cell's marker is in the script


@dataclass
class Lesson:
    number: int
    slug: str
    group: str

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

    @property
    def preview(self) -> bool:
        """Whether the script uses preview features (a "//PREVIEW" line for JBang)."""
        return any(line.strip() == "//PREVIEW" for line in
                   self.script.read_text(encoding="utf-8").splitlines())

    def diagrams(self) -> list[Path]:
        return sorted((ROOT / "diagrams").glob(f"{self.slug}-*.mmd"))

    def cells(self) -> list[Cell]:
        return parse(self.script.read_text(encoding="utf-8"), str(self.script))

    def title(self) -> str:
        first = self.cells()[0]
        heading = first.text.splitlines()[0] if first.kind == "markdown" else ""
        if not heading.startswith("# "):
            raise ValueError(f"{self.script}: the first cell must be markdown starting '# Title'")
        return heading[2:].strip()

    def short_title(self) -> str:
        """"Counter" of "Counter: lost updates, and four ways to stop losing them"."""
        return self.title().split(":", 1)[0]

    def subtitle(self) -> str:
        """What you will learn, in one line: the title after its colon."""
        parts = self.title().split(":", 1)
        return parts[1].strip() if len(parts) == 2 else ""


def lessons() -> list[Lesson]:
    found, group = [], ""
    for line in (ROOT / "lessons.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = GROUP.match(line)
        if m:
            group = m.group(1)
        else:
            found.append(Lesson(len(found) + 1, line, group))
    return found


def parse(source: str, name: str) -> list[Cell]:
    cells: list[Cell] = []
    kind, body, start = None, [], 0

    def flush():
        if kind is None:
            return
        text = "\n".join(body).strip("\n")
        if text:
            cells.append(Cell(kind, text, start))

    for lineno, line in enumerate(source.splitlines(), start=1):
        m = MARKER.match(line)
        if m:
            flush()
            kind, body, start = (m.group(1) or "code"), [], lineno
        elif kind in ("markdown", "run"):
            if line.strip() and not line.startswith("//"):
                raise ValueError(f"{name}:{lineno}: a {kind} cell line must start with //")
            body.append(re.sub(r"^// ?", "", line))
        elif kind is not None:
            body.append(line)
    flush()
    if not cells:
        raise ValueError(f"{name}: no '// %%' cells found")
    return cells
