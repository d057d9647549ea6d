"""The rules every lesson keeps, checked by `make check` (tools/generate.py --check).

Each function returns a list of problems, one line each, naming the file to fix.
"""
import hashlib
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
from markdown_it import MarkdownIt

from generate import cell_sources, png_width, rel
from lessons import ROOT, Lesson

MAX_CODE_LINE = 90        # characters in a script's code line (talks use big fonts)
MAX_OUTPUT_LINE = 80      # characters in a printed line of a default run (a projector)
MAX_SCRIPT_LINES = 400    # a lesson's script, prose included
MAX_CELL_LINES = 60       # a notebook code cell
MAX_ENTRY_LINES = 40      # the [main] cell
MAX_DIAGRAM_WIDTH = 1000  # CSS pixels: wider ones get scaled down in a GitHub column
MAX_PARTICIPANTS = 5
ENTRY_TEMPLATE = ROOT / "tools" / "entry-point.java"
SHARED_HELPERS = ROOT / "tools" / "shared-helpers.java"
STATIC_MAIN = re.compile(r"\bstatic\s+void\s+main\s*\(")


def in_v2_format(lesson: Lesson) -> bool:
    """A lesson rewritten to the v2 format has an entry point cell ("// %% [main]"). The
    lessons not yet rewritten keep every other check; the v2 rules wait for them."""
    return any(c.kind == "main" for c in lesson.cells())


def problems(all_lessons: list[Lesson], notebooks: dict) -> list[str]:
    found = parts(all_lessons) + readme_links() + diagram_hashes()
    for lesson in all_lessons:
        found += script_lines(lesson)
        found += notebook_current(lesson.notebook, notebooks[lesson.notebook], executed=True)
        found += headings_visible(lesson, notebooks[lesson.notebook])
        if in_v2_format(lesson):
            found += format_rules(lesson) + entry_point(lesson) + budget(lesson)
            found += output_widths(lesson) + diagram_rules(lesson) + shared_helpers(lesson)
    index = ROOT / "notebooks" / "00_index.ipynb"
    return found + notebook_current(index, notebooks[index], executed=False)


def parts(all_lessons: list[Lesson]) -> list[str]:
    """Every lesson has its script (executable), notebook, diagram and test; nothing else
    sits among them."""
    found = []
    listed = {l.slug for l in all_lessons}
    for script in sorted((ROOT / "jbang-scripts").glob("*.java")):
        if script.stem not in listed:
            found.append(f"{rel(script)} is not listed in lessons.txt")
        if not os.access(script, os.X_OK):
            found.append(f"{rel(script)} is not executable (chmod +x, for ./{rel(script)})")
    expected = {l.notebook.name for l in all_lessons} | {"00_index.ipynb"}
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if nb.name not in expected:
            found.append(f"{rel(nb)} belongs to no lesson (renumbered or removed?)")
    for l in all_lessons:
        if not l.diagrams():
            found.append(f"{l.slug}: no diagrams/{l.slug}-*.mmd")
        if not l.test.exists():
            found.append(f"{l.slug}: no test {rel(l.test)}")
    return found


def readme_links() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return [f"README.md links to {target}, which does not exist"
            for target in re.findall(r"\]\(([^)#:]+)\)", readme)  # relative links only
            if not (ROOT / target).exists()]


def recorded_hashes(mmd: Path) -> dict[str, str | None]:
    svg, png = mmd.with_suffix(".svg"), mmd.with_suffix(".png")
    found = {rel(svg): None, rel(png): None}
    if svg.exists():
        m = re.search(r"<!-- source-sha256: ([0-9a-f]{64}) -->", svg.read_text(encoding="utf-8"))
        found[rel(svg)] = m and m.group(1)
    if png.exists():
        m = re.search(rb"tEXtsource-sha256\x00([0-9a-f]{64})", png.read_bytes())
        found[rel(png)] = m and m.group(1).decode()
    return found


def diagram_hashes() -> list[str]:
    found = []
    for mmd in sorted((ROOT / "diagrams").glob("*.mmd")):
        want = hashlib.sha256(mmd.read_bytes()).hexdigest()
        for output, got in recorded_hashes(mmd).items():
            if got != want:
                found.append(f"{output} is stale or missing: {rel(mmd)} changed; "
                             "run make diagrams")
    return found


def script_lines(lesson: Lesson) -> list[str]:
    return [f"{rel(lesson.script)}:{n}: code line over {MAX_CODE_LINE} characters"
            for n, line in enumerate(lesson.script.read_text(encoding="utf-8").splitlines(), 1)
            if len(line) > MAX_CODE_LINE and not line.startswith("//")]


def notebook_current(path: Path, expected, executed: bool) -> list[str]:
    if not path.exists():
        return [f"{rel(path)} is missing; run make notebooks"]
    actual = nbformat.read(path, as_version=4)
    want, got = cell_sources(expected), cell_sources(actual)
    if want != got:
        n = next(n for n, (w, g) in enumerate(zip(want + [None], got + [None])) if w != g)
        return [f"{rel(path)} differs from its source at cell {n}; run make notebooks"]
    want_kernel = expected.metadata["kernelspec"]["name"]
    if actual.metadata.get("kernelspec", {}).get("name") != want_kernel:
        return [f"{rel(path)}: kernelspec is not '{want_kernel}'; run make notebooks"]
    if executed:
        for n, c in enumerate(actual.cells):
            if c.cell_type == "code" and c.execution_count is None:
                return [f"{rel(path)}: cell {n} has no outputs; run make notebooks"]
            if any(o.get("output_type") == "error" for o in c.get("outputs", [])):
                return [f"{rel(path)}: cell {n} failed when executed"]
    return []


class _Headings(HTMLParser):
    """Collects the headings of rendered HTML that no <details> element hides."""

    def __init__(self):
        super().__init__()
        self.details, self.in_heading, self.visible = 0, False, []

    def handle_starttag(self, tag, attrs):
        if tag == "details":
            self.details += 1
        elif re.fullmatch(r"h[1-6]", tag) and self.details == 0:
            self.in_heading = True
            self.visible.append("")

    def handle_endtag(self, tag):
        if tag == "details":
            self.details -= 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.in_heading = False

    def handle_data(self, data):
        if self.in_heading:
            self.visible[-1] += data


def headings_visible(lesson: Lesson, nb) -> list[str]:
    """Renders each Markdown cell as CommonMark (as GitHub and JupyterLab do) and checks
    that every heading of the script's prose is a heading outside any <details>: text
    glued to a </details> line would fall into the collapsed block, and vanish."""
    md, found = MarkdownIt("commonmark"), []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        parser = _Headings()
        parser.feed(md.render(cell.source))
        visible = [" ".join(h.split()) for h in parser.visible]
        for line in cell.source.splitlines():
            m = re.match(r"#{1,6} (.+)", line)
            if m and " ".join(re.sub(r"[`*]", "", m.group(1)).split()) not in visible:
                found.append(f"{rel(lesson.notebook)}: heading '{m.group(1)}' does not render "
                             "as a visible heading (hidden in a <details> block?)")
    return found


def section(lesson: Lesson, title: str) -> str | None:
    """The prose of the section "## title", up to the next heading of any level 1-2."""
    prose = "\n".join(c.text for c in lesson.cells() if c.kind == "markdown")
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^#{{1,2}} |\Z)", prose, re.M | re.S)
    return m and m.group(1)


def format_rules(lesson: Lesson) -> list[str]:
    """The first screen (title, hook, what you will learn) and the last (Try it, Summary)."""
    where, found = rel(lesson.script), []
    first = lesson.cells()[0].text
    parts = first.split("\n\n")
    if len(parts) < 3 or not parts[0].startswith("# "):
        return [f"{where}: the first cell is '# Title', a hook, then '**You will learn**'"]
    learn = re.search(r"^\*\*You will learn\*\*\n((?:- .*\n?(?:  .*\n?)*)+)", first, re.M)
    if not learn or not 3 <= len(re.findall(r"^- ", learn.group(1), re.M)) <= 5:
        found.append(f"{where}: the first cell needs '**You will learn**' with 3 to 5 bullets")
    hook = first.split("**You will learn**")[0].split("\n", 1)[1].strip()
    sentences = len(re.findall(r"[.!?](?:\s|$)", hook))
    if not 1 <= sentences <= 3:
        found.append(f"{where}: the hook under the title has {sentences} sentences (2 or 3)")
    titles = [h for h in re.findall(r"^## (.+)$", "\n".join(
        c.text for c in lesson.cells() if c.kind == "markdown"), re.M)]
    if titles[-2:] != ["Try it", "Summary"]:
        found.append(f"{where}: the last two sections must be '## Try it' then '## Summary'")
    tries = section(lesson, "Try it") or ""
    if not 2 <= len(re.findall(r"^(?:- |\d+\. )", tries, re.M)) <= 3:
        found.append(f"{where}: '## Try it' needs two or three exercises, one bullet each")
    return found


def entry_point(lesson: Lesson) -> list[str]:
    """One [main] cell, at most MAX_ENTRY_LINES lines, whose shared part is the template's."""
    where = rel(lesson.script)
    mains = [c for c in lesson.cells() if c.kind == "main"]
    if len(mains) != 1:
        return [f"{where}: needs exactly one '// %% [main]' cell (the entry point)"]
    text = mains[0].text
    found = []
    if len(text.splitlines()) > MAX_ENTRY_LINES:
        found.append(f"{where}:{mains[0].line}: the entry point has {len(text.splitlines())} "
                     f"lines (at most {MAX_ENTRY_LINES})")
    template = ENTRY_TEMPLATE.read_text(encoding="utf-8")
    marker = "    // From here on the same in every lesson"
    shared = marker + template.split(marker, 1)[1]
    if not text.endswith(shared.rstrip("\n")):
        found.append(f"{where}:{mains[0].line}: the entry point's shared part differs from "
                     f"{rel(ENTRY_TEMPLATE)}")
    if not re.match(rf"(public )?class {lesson.slug} ", text):
        found.append(f"{where}:{mains[0].line}: the entry point must be 'class {lesson.slug}'")
    for cell in lesson.cells():  # a notebook shows no entry point, a child program's either
        if cell.kind in ("code", "run", "show") and STATIC_MAIN.search(cell.text):
            found.append(f"{where}:{cell.line}: 'static void main' outside the [main] cell "
                         "(a child program is a compact source file: 'void main')")
    return found


def java_blocks(text: str) -> dict[str, str]:
    """Each helper of tools/shared-helpers.java found in `text`, by its first code line:
    the block from its doc comment to the closing brace at its own indentation."""
    found = {}
    lines = text.splitlines()
    for n, line in enumerate(lines):
        m = re.match(r"( *)(static void await\(CountDownLatch|record ChildJvm\()", line)
        if not m:
            continue
        indent, start = m.group(1), n
        while start > 0 and lines[start - 1].strip().startswith(("/**", "*", "*/")):
            start -= 1
        end = next(k for k in range(n + 1, len(lines)) if lines[k] == indent + "}")
        found[m.group(2)] = "\n".join(l[len(indent):] for l in lines[start:end + 1])
    return found


def shared_helpers(lesson: Lesson) -> list[str]:
    """A lesson's timed wait and child-JVM launcher are exactly the shared shapes."""
    want = java_blocks(SHARED_HELPERS.read_text(encoding="utf-8"))
    return [f"{rel(lesson.script)}: its `{name.split('(')[0].strip()}` differs from "
            f"{rel(SHARED_HELPERS)} (one shape in every lesson)"
            for name, block in java_blocks(lesson.script.read_text(encoding="utf-8")).items()
            if block != want[name]]


def budget(lesson: Lesson) -> list[str]:
    where, found = rel(lesson.script), []
    lines = len(lesson.script.read_text(encoding="utf-8").splitlines())
    if lines > MAX_SCRIPT_LINES:
        found.append(f"{where}: {lines} lines (at most {MAX_SCRIPT_LINES} with its prose)")
    for cell in lesson.cells():
        n = len(cell.text.splitlines())
        if cell.kind in ("code", "run", "show") and n > MAX_CELL_LINES:
            found.append(f"{where}:{cell.line}: a code cell of {n} lines "
                         f"(at most {MAX_CELL_LINES})")
    return found


def output_widths(lesson: Lesson) -> list[str]:
    if not lesson.notebook.exists():
        return []
    found = []
    for n, cell in enumerate(nbformat.read(lesson.notebook, as_version=4).cells):
        for output in cell.get("outputs", []):
            if output.output_type == "execute_result":  # JShell echoing a returned value
                found.append(f"{rel(lesson.notebook)}: cell {n} shows a value it returned "
                             "(end the cell with a statement, not an expression)")
                break
            for line in output.get("text", "").splitlines():
                if len(line) > MAX_OUTPUT_LINE:
                    found.append(f"{rel(lesson.notebook)}: cell {n} printed a line of "
                                 f"{len(line)} characters (at most {MAX_OUTPUT_LINE})")
                    break
    return found


def diagram_rules(lesson: Lesson) -> list[str]:
    where, found = rel(lesson.script), []
    used = set(re.findall(r"^@diagram (\S+)", "\n".join(
        c.text for c in lesson.cells() if c.kind == "markdown"), re.M))
    for mmd in lesson.diagrams():
        if mmd.stem not in used:
            found.append(f"{rel(mmd)}: no '@diagram {mmd.stem}' in {where}")
        participants = re.findall(r"^\s*(?:participant|actor)\s", mmd.read_text(), re.M)
        if len(participants) > MAX_PARTICIPANTS:
            found.append(f"{rel(mmd)}: {len(participants)} participants "
                         f"(at most {MAX_PARTICIPANTS})")
        png = mmd.with_suffix(".png")
        if png.exists() and png_width(png) // 2 > MAX_DIAGRAM_WIDTH:
            found.append(f"{rel(mmd)}: {png_width(png) // 2} px wide (at most "
                         f"{MAX_DIAGRAM_WIDTH}, or GitHub shrinks its text)")
    return found
