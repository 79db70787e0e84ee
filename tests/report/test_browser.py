"""The demo report in a real browser: Debian's ``chromium``, headless, with the network off.

What is checked: the first screen renders (a screenshot that is not one colour), every SVG
figure of the file is in the rendered page with a size, the page fetches nothing (no resource
in the page's Resource Timing, no page request in chromium's network log, no external URL in
the DOM) and no two pieces of text overlap on the first screen (their boxes, as laid out by
the browser, at a laptop's 1280 x 900 window).

The report has no script; the layout checks run from a script added to a *copy* of it. The
tests skip only where chromium is absent and ``CI`` is not set: on CI a missing browser fails
(``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

VIEWPORT = (1280, 900)  # a laptop's browser window, in CSS pixels

# requests chromium makes for itself (clock, component updates, accounts, dictionaries): not
# the page's; anything else in the network log is a request the report made
BROWSER_OWN = (
    "http://clients2.google.com/time/",
    "https://update.googleapis.com/service/update2",
    "http://update.googleapis.com/service/update2",
    "https://accounts.google.com/ListAccounts",
    "https://redirector.gvt1.com/edgedl/",
    "https://clientservices.googleapis.com/chrome-variations/",
    "https://safebrowsingohttpgateway.googleapis.com/",
)

FLAGS = (
    "--headless",
    "--no-sandbox",  # the test may run as root in a container
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-features=SpellCheck,Translate,OptimizationHints,MediaRouter",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: the network is off
    "--enable-logging=stderr",
    "--v=1",
    f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
)

# added to the copy only: lays out the page and writes what it measured into a <pre>
CHECK_SCRIPT = """
<script>
window.addEventListener("load", () => {
  const H = window.innerHeight, out = {};
  out.resources = performance.getEntriesByType("resource").map(e => e.name);
  out.figures = [...document.querySelectorAll("figure svg")].map(s => {
    const r = s.getBoundingClientRect(); return [r.width, r.height];
  });
  const boxes = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(), i = 0; n; n = walker.nextNode(), i++) {
    if (!n.textContent.trim() || n.parentElement.closest("svg, script, pre")) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (r.width > 0 && r.height > 0 && r.top < H)
        boxes.push({i, t: n.textContent.trim().slice(0, 40), l: r.left, r: r.right,
                    top: r.top, b: r.bottom});
    }
  }
  out.overlaps = [];
  for (let a = 0; a < boxes.length; a++) for (let c = a + 1; c < boxes.length; c++) {
    const p = boxes[a], q = boxes[c];
    if (p.i === q.i) continue;
    const w = Math.min(p.r, q.r) - Math.max(p.l, q.l);
    const h = Math.min(p.b, q.b) - Math.max(p.top, q.top);
    if (w > 2 && h > 2) out.overlaps.push([p.t, q.t]);
  }
  out.n_text_boxes = boxes.length;
  out.svg_overlaps = [];
  document.querySelectorAll("figure").forEach(fig => {
    const texts = [...fig.querySelectorAll("svg text")].map(t => [t.textContent.trim(),
      t.getBoundingClientRect()]).filter(([s, r]) => s && r.width > 0);
    for (let a = 0; a < texts.length; a++) for (let c = a + 1; c < texts.length; c++) {
      const [s1, p] = texts[a], [s2, q] = texts[c];
      const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (w > 1 && h > 1) out.svg_overlaps.push([fig.querySelector("h3").textContent, s1, s2]);
    }
  });
  const pre = document.createElement("pre"); pre.id = "ithkit-browser-check";
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>
"""


def chromium() -> str:
    """The chromium executable; skip without it, except on CI where it must be installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (CI installs it: apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def _run(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def page_requests(log: str) -> list[str]:
    """URLs the page asked for, from chromium's network log (its own background calls out)."""
    urls = re.findall(r"NotifyBeforeURLRequest: (\S+)", log)
    return [u for u in urls if not u.startswith("file:") and not u.startswith(BROWSER_OWN)]


@pytest.fixture(scope="module")
def rendered(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo report laid out by chromium: screenshot, measurements, network log."""
    tmp = tmp_path_factory.mktemp("browser")
    report = demo_dir / "report.html"
    shot = tmp / "first_screen.png"
    done = _run([f"--screenshot={shot}", report.as_uri()], tmp)
    assert shot.exists(), done.stderr[-2000:]
    page = report.read_text(encoding="utf-8")
    check, dom = measure(page, tmp)
    return {"page": page, "shot": shot, "dom": dom.stdout, "check": check,
            "log": done.stderr + dom.stderr}  # fmt: skip


def measure(page: str, tmp: Path) -> tuple[dict, subprocess.CompletedProcess[str]]:
    """Lay out a copy of ``page`` with :data:`CHECK_SCRIPT` added; its measurements."""
    import html

    checked = tmp / "checked.html"
    checked.write_text(page.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    dom = _run(["--virtual-time-budget=5000", "--dump-dom", checked.as_uri()], tmp)
    found = re.search(r'<pre id="ithkit-browser-check">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stderr[-2000:]
    return json.loads(html.unescape(found.group(1))), dom


def test_first_screen_is_not_blank(rendered: dict) -> None:
    from PIL import Image

    with Image.open(rendered["shot"]) as im:
        assert im.size == VIEWPORT
        colours = im.convert("RGB").getcolors(maxcolors=1 << 16)
    # None: more than 65,536 colours; otherwise text and lines give many distinct colours
    assert colours is None or len(colours) > 20


def test_every_figure_is_drawn(rendered: dict) -> None:
    n_svg = len(re.findall(r"<figure><h3>[^<]*</h3><svg", rendered["page"]))
    assert n_svg >= 10  # the demo has every modality: trees, CCFs, lesions, ctDNA, cells...
    sizes = rendered["check"]["figures"]
    assert len(sizes) == n_svg
    assert all(w > 100 and h > 50 for w, h in sizes), sizes
    # readable at laptop width: no figure wider than the window
    assert max(w for w, _ in sizes) <= VIEWPORT[0]


def test_no_request_leaves_the_file(rendered: dict) -> None:
    assert rendered["check"]["resources"] == []
    assert page_requests(rendered["log"]) == []
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", rendered["dom"])
    assert external == []


def test_network_log_sees_a_request_when_there_is_one(tmp_path: Path) -> None:
    """The log check can fail: a page that loads an image from a URL shows in it."""
    page = tmp_path / "leaky.html"
    page.write_text("<!DOCTYPE html><p>x</p><img src='http://example.invalid/a.png'>")
    done = _run(["--virtual-time-budget=3000", "--dump-dom", page.as_uri()], tmp_path)
    assert page_requests(done.stderr) == ["http://example.invalid/a.png"]


def test_no_text_overlaps_on_the_first_screen(rendered: dict) -> None:
    check = rendered["check"]
    assert check["n_text_boxes"] > 20  # header, navigation, patient, findings
    assert check["overlaps"] == []


def test_overlap_check_sees_overlapping_text(tmp_path: Path) -> None:
    """The overlap check can fail: two labels drawn at the same place are reported."""
    page = (
        "<!DOCTYPE html><html><body><p>" + "word " * 30 + "</p>"
        "<span style='position:absolute;top:8px;left:8px'>Sum of diameters</span>"
        "<span style='position:absolute;top:10px;left:20px'>Best response</span></body></html>"
    )
    check, _ = measure(page, tmp_path)
    assert ["Sum of diameters", "Best response"] in check["overlaps"]


def test_no_text_overlaps_in_figures(rendered: dict) -> None:
    """Tree labels, chromosome ticks, legends and titles of every figure stay apart."""
    assert rendered["check"]["svg_overlaps"] == []


def test_print_to_pdf_starts_each_section_on_a_page(demo_dir: Path, tmp_path: Path) -> None:
    """The print stylesheet: "Print to PDF" gives a document, one section per page at least."""
    pdf = tmp_path / "report.pdf"
    _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", (demo_dir / "report.html").as_uri()],
         tmp_path)  # fmt: skip
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    n_sections = (demo_dir / "report.html").read_text(encoding="utf-8").count("<section ")
    assert pages >= n_sections >= 8
