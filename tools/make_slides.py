"""Builds a reveal.js deck per lesson from its executed notebook (make slides).

Usage: make_slides.py OUT_DIR [NOTEBOOK...]   (default: every lesson notebook)

Each deck is Jupyter's own slides exporter (nbconvert) run on a slide notebook made
from the lesson's notebook: the title and "You will learn" open the deck; each section
heading starts a slide showing its lists and tables, with its paragraphs as speaker
notes (press S); each diagram is a slide of its own; each code cell is a slide with its
output. reveal.js and require.js come from OUT_DIR (tools/slides installs them there
from npm) and the diagrams are copied there, so a deck needs no network. OUT_DIR/decks.json records each deck's slides.
"""
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter

from lessons import ROOT

JQUERY = Path("/usr/share/javascript/jquery/jquery.min.js")  # Debian's, nbconvert needs it
DIAGRAM = re.compile(r'<img src="\.\./diagrams/([^"]+)\.png"[^>]*>')
DETAILS = re.compile(r"<details>.*?</details>\n?", re.S)


def slide(source: str, kind: str = "slide") -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["slideshow"] = {"slide_type": kind}
    return cell


def notes(source: str) -> nbformat.NotebookNode:
    return slide(source, "notes")


def blocks(markdown: str) -> list[str]:
    """Markdown split into blocks at blank lines (a table or a list stays whole)."""
    return [b.strip() for b in re.split(r"\n\s*\n", DETAILS.sub("", markdown)) if b.strip()]


def is_visible(block: str) -> bool:
    """Lists and tables go on the slide; paragraphs become the speaker's notes."""
    return bool(re.search(r"^(- |\d+\. |\|)", block, re.M))


def from_markdown(markdown: str, diagrams: Path) -> list:
    """A lesson's markdown cell as slides: a heading opens a slide; a diagram gets one."""
    cells, shown, spoken = [], [], []

    def flush(kind="slide"):
        if shown or spoken:
            cells.append(slide("\n\n".join(shown) or "&nbsp;", kind))
            if spoken:
                cells.append(notes("\n\n".join(spoken)))
        shown.clear()
        spoken.clear()

    for block in blocks(markdown):
        picture = DIAGRAM.search(block)
        if block.startswith("## ") or block.startswith("# "):
            flush()
            heading, _, rest = block.partition("\n")
            shown.append(heading)
            if rest.strip():
                (shown if is_visible(rest) else spoken).append(rest.strip())
        elif picture:
            flush()
            cells.append(slide(f'<img src="{diagrams}/{picture.group(1)}.png" '
                               f'style="max-height: 85vh">'))
        elif is_visible(block):
            shown.append(block)
        else:
            spoken.append(block)
    flush()
    return cells


def slide_notebook(lesson_nb, diagrams: Path) -> nbformat.NotebookNode:
    first, *rest = lesson_nb.cells
    title = first.source.split("*About ")[0]  # the generator's reading time and contents
    cells = from_markdown(title, diagrams)
    for cell in rest[:-1]:  # the last cell is the generated "Next" line
        if cell.cell_type == "markdown":
            cells += from_markdown(cell.source, diagrams)
        else:
            code = nbformat.v4.new_code_cell(cell.source)
            code.outputs, code.execution_count = cell.outputs, cell.execution_count
            code.metadata["slideshow"] = {"slide_type": "slide"}
            cells.append(code)
    nb = nbformat.v4.new_notebook()
    nb.metadata = lesson_nb.metadata
    nb.cells = cells
    return nb


def exporter() -> SlidesExporter:
    e = SlidesExporter()
    e.reveal_url_prefix = "reveal.js"            # OUT_DIR/reveal.js, from npm
    e.require_js_url = "require.js"              # OUT_DIR/require.js, from npm
    e.jquery_url = "jquery.min.js"               # OUT_DIR/jquery.min.js, Debian's copy
    e.mathjax_url = "no-mathjax.js"              # no formulas: a stub the template can call
    e.font_awesome_url = "no-font-awesome.css"
    e.reveal_theme, e.reveal_transition, e.reveal_scroll = "white", "none", True
    e.exclude_input_prompt = e.exclude_output_prompt = True
    return e


def main(args: list[str]) -> int:
    out = Path(args[0]).resolve()
    paths = [Path(a) for a in args[1:]] or sorted(
        p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if p.stem != "00_index")
    (out / "no-mathjax.js").write_text(  # the template's slide listener calls MathJax
        "window.MathJax = {Hub: {getAllJax: () => null, Rerender: () => null}};\n")
    shutil.copyfile(JQUERY, out / "jquery.min.js")
    (out / "no-font-awesome.css").write_text("")
    (out / "diagrams").mkdir(exist_ok=True)  # a copy, so the folder is the whole show
    for png in (ROOT / "diagrams").glob("*.png"):
        shutil.copyfile(png, out / "diagrams" / png.name)
    diagrams = Path("diagrams")
    decks, export = {}, exporter()
    for path in paths:
        nb = slide_notebook(nbformat.read(path, as_version=4), diagrams)
        html, _ = export.from_notebook_node(nb)
        deck = out / f"{path.stem[3:]}.slides.html"
        deck.write_text(html, encoding="utf-8")
        decks[deck.name] = {
            "slides": sum(1 for c in nb.cells if c.metadata.get("slideshow", {})
                          .get("slide_type") in ("slide", "subslide")),
            "diagram": next((n for n, c in enumerate(
                c for c in nb.cells if c.metadata["slideshow"]["slide_type"] == "slide")
                if "<img" in c.source), None),
            "code": next((n for n, c in enumerate(
                c for c in nb.cells if c.metadata["slideshow"]["slide_type"] == "slide")
                if c.cell_type == "code" and c.outputs), None)}
        print(f"{deck.relative_to(ROOT)}: {decks[deck.name]['slides']} slides")
    (out / "decks.json").write_text(json.dumps(decks, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
