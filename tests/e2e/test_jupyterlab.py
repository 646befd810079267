"""The student's and the instructor's flow in a real JupyterLab, driven by Playwright in Debian's Chromium.

One JupyterLab server (loopback, free port, random token) serves a temporary copy of the course,
in which one submission went through release, autograde and the gradebook first. The suite
installs Chromium through apt when it is missing; playwright comes with the `test` extra.

On a failure each test saves a screenshot and the page's console log under
test-output/e2e/<test>/ and names them in the assertion message.

    .venv/bin/python -m pytest tests/e2e -m e2e        # just this suite
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

# with `.[test]` alone this module skips, naming the extra it needs, instead of failing collection
nbformat = pytest.importorskip("nbformat", reason="needs nbformat, from the course extra (pip install -e '.[course,test]')")
pytest.importorskip("nbgrader", reason="needs nbgrader, from the course extra (pip install -e '.[course,test]')")

from conftest import ROOT
from expected_scores import fixtures
from scratch_course import instructor, make_course, submit

from toxlab.data import make_demo_data
from toxlab.grading import solved_notebook

pytestmark = pytest.mark.e2e
OUT = ROOT / "test-output" / "e2e"
BROKEN = ROOT / "tests" / "fixtures" / "broken_lab.ipynb"
LAB = "toxicity_lab"  # the browser walk-through uses lab 6a: what it checks is JupyterLab and nbgrader, not a lab
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


# --- prerequisites, server, browser ------------------------------------------------------------

def chromium() -> str:
    """Debian's chromium, installed through apt when missing (root only)."""
    from toxlab.system import apt_install

    found = shutil.which("chromium")
    if not found and apt_install("chromium"):
        found = shutil.which("chromium")
    if not found:
        msg = "Debian's chromium is missing and could not be installed: run `apt-get install chromium`"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the course copy; the server's root is root/course
    log: Path

    def link(self, path: str) -> str:
        return f"{self.url}/{path.lstrip('/')}{'&' if '?' in path else '?'}token={self.token}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A course copy with one autograded submission, served by JupyterLab; stopped even when tests fail."""
    root = tmp_path_factory.mktemp("e2e-course")
    release, source = make_course(root)[LAB]
    solved = solved_notebook(release, source)
    submit(root, LAB, {"e2e-student": solved})
    res = instructor(root, "autograde")
    assert res.returncode == 0, res.stderr[-3000:]

    work = root / "course" / "student"  # what a student has open: a solved copy, an untouched one, a broken one
    for name, nb in (("solved", solved), ("untouched", release)):
        (work / name).mkdir(parents=True)
        nbformat.write(nb, work / name / f"{LAB}.ipynb")
    (work / "broken").mkdir()
    shutil.copy(BROKEN, work / "broken" / BROKEN.name)

    settings = root / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    env = {**os.environ, "TOXLAB_DATA": str(make_demo_data(root / "data", n_train=200, n_test=60, seed=1)),
           "JUPYTERLAB_SETTINGS_DIR": str(root / "lab-settings")}
    env.pop("MPLBACKEND", None)  # tests/conftest.py sets Agg; the kernel must render inline

    port, token = free_port(), secrets.token_hex(24)
    log = root / "jupyterlab.log"
    jupyter = str(Path(sys.executable).parent / "jupyter")
    proc = subprocess.Popen(
        [jupyter, "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root / 'course'}"],
        cwd=root / "course", env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, f"JupyterLab exited: {log.read_text()[-2000:]}"
                time.sleep(0.2)
        else:
            pytest.fail(f"JupyterLab did not answer on {url}: {log.read_text()[-2000:]}")
        yield Lab(url, token, root, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    path = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh page; its console messages are kept for the failure evidence."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.console_log = []
    pg.on("console", lambda m: pg.console_log.append(f"[{m.type}] {m.text}"))
    pg.on("pageerror", lambda e: pg.console_log.append(f"[pageerror] {e}"))
    pg.evidence_name = request.node.name
    yield pg
    context.close()


@contextlib.contextmanager
def evidence(page):
    """On a failed check: save a screenshot and the console log, and name them in the assertion."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        yield
    except (AssertionError, PlaywrightError) as e:
        folder = OUT / page.evidence_name
        folder.mkdir(parents=True, exist_ok=True)
        shot, console = folder / "screenshot.png", folder / "console.log"
        with contextlib.suppress(PlaywrightError):
            page.screenshot(path=str(shot), full_page=True)
        console.write_text("\n".join(page.console_log) + "\n")
        raise AssertionError(f"{e}\n  screenshot: {shot}\n  console log: {console}") from e


# --- what a student sees -----------------------------------------------------------------------

def open_notebook(page, lab: Lab, path: str) -> None:
    page.goto(lab.link(f"lab/tree/{path}?reset"))  # reset: no notebooks left open by an earlier test
    page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", timeout=60_000)
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=90_000)  # the kernel is up


def run_all(page, timeout_s: float) -> None:
    """Run > Run All Cells; return when nothing is queued or running any more."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(e => e.textContent.includes('*'))""",
        timeout=30_000)
    page.wait_for_function(
        """() => {const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent);
                  return p.length && !p.some(t => t.includes('*')) && p.some(t => /\\d/.test(t));}""",
        timeout=timeout_s * 1000, polling=1000)


def code_cell(page, snippet: str):
    """The code cell whose source contains `snippet`."""
    cells = page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea-editor", has_text=snippet))
    assert cells.count() == 1, f"{cells.count()} cells contain {snippet!r}"
    cells.first.scroll_into_view_if_needed()  # cells off screen are not rendered (content-visibility)
    return cells.first


def assert_no_errors(page) -> None:
    """No cell output shows a Python error."""
    errors = page.locator(".jp-OutputArea-output", has_text="Traceback (most recent call last)")
    if errors.count():
        raise AssertionError(f"{errors.count()} cell(s) show an error; the first: {errors.first.text_content()[-600:]}")


def assert_image(page, snippet: str) -> None:
    """The cell containing `snippet` rendered a plot as a loaded image."""
    imgs = code_cell(page, snippet).locator(".jp-OutputArea-output img")
    assert imgs.count() >= 1, f"the cell with {snippet!r} shows no image"
    assert imgs.first.evaluate("i => i.complete && i.naturalWidth > 0"), f"the image of {snippet!r} did not load"


def validate(page) -> str:
    """Click nbgrader's Validate button; return the text of the dialog it opens."""
    page.locator(".jp-NotebookPanel-toolbar jp-button:visible", has_text="Validate").first.click()
    dialog = page.locator(".jp-Dialog")  # opens when nbgrader's validate (a grade-mode run) is done
    dialog.wait_for(timeout=180_000)
    return dialog.inner_text()


def test_student_runs_the_solved_lab_in_cpu_mode(page, lab):
    with evidence(page):
        open_notebook(page, lab, f"student/solved/{LAB}.ipynb")
        run_all(page, timeout_s=240)
        assert_no_errors(page)
        assert "mode=cpu" in code_cell(page, "cfg = lab_config(").text_content()
        assert_image(page, "plot_label_counts(ds)")
        assert_image(page, "plot_confusion_matrix(test")
        assert code_cell(page, "trainer.train()").locator("progress").count() >= 1, "training shows no progress bar"
        text = validate(page)
        assert "Success" in text and "passes all the tests" in text, text


def test_validate_names_the_failing_exercises_of_the_untouched_release(page, lab):
    with evidence(page):
        open_notebook(page, lab, f"student/untouched/{LAB}.ipynb")
        text = validate(page)
        assert "failed" in text.lower(), text
        for exercise in ("label_counts", "class_weights", "weighted_loss", "identity_gap"):
            assert exercise in text, f"Validate does not name {exercise}: {text[:1500]}"


def test_the_checks_catch_a_broken_notebook(page, lab):
    """The fixture has a cell that raises and a plot cell that draws nothing: both checks must fail."""
    with evidence(page):
        open_notebook(page, lab, f"student/broken/{BROKEN.name}")
        run_all(page, timeout_s=120)
    with pytest.raises(AssertionError, match="show an error"):
        assert_no_errors(page)
    with pytest.raises(AssertionError, match="shows no image"):
        assert_image(page, "plot_label_counts(ds)")


# --- what an instructor sees ---------------------------------------------------------------------

def test_formgrader_lists_the_lab_and_the_autograded_score(page, lab):
    with evidence(page):
        page.goto(lab.link("lab?reset"))
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        page.locator(".lm-Menu-itemLabel").get_by_text("Formgrader", exact=True).click()
        frame = page.frame_locator("iframe").first
        frame.get_by_text(LAB, exact=True).first.wait_for(timeout=60_000)
        page.goto(lab.link(f"formgrader/manage_submissions/{LAB}"))
        score = page.locator("tr", has_text="e2e-student").locator(".score")
        score.wait_for(timeout=60_000)
        points = sum(fixtures(LAB).POINTS.values())
        expected = f"{points} / {points + 3}"  # 16 autograded of 19 (3 by hand)
        assert score.inner_text().strip() == expected, f"formgrader shows {score.inner_text()!r}, not {expected!r}"
