"""The course on a real JupyterHub (course/hub/): students work through the nbgrader exchange, the instructor grades.

One hub for the module (`instructor.py hub start` on loopback, a temporary --root, three Unix users made for
it and removed after it):

- in headless Chromium, a student logs in, fetches every lab in the Assignments tab, puts the solution in
  (saved through the server's contents API from the logged-in page, as JupyterLab saves an edit), validates
  lab 6a (the other labs' Validate would add minutes and tests nbgrader, not the hub) and submits every lab;
- the other student, at the same time, fetches and submits the untouched release with nbgrader's CLI, as their Unix user;
- the instructor's `hub grade` collects, autogrades through toxlab's grader (checker and sandbox), generates
  feedback without hidden checks and releases it; the first student fetches it in the browser, the second
  with the CLI; scores are full and 0, and no hidden-check line is in any feedback;
- as each student's Unix user the hidden checks, the gradebook, the instructor's course folder and the other
  student's work cannot be read, and formgrader answers a student 403 or 404;
- the instructor opens formgrader through the hub and sees both submissions (test-output/hub/formgrader.png).

Needs root (users, a hub that spawns as them), Debian's chromium and python3, npm; the shared environment
(/opt/toxlab-hub, or $TOXLAB_HUB_ENV) is built on first use, which takes minutes once.

    .venv/bin/python -m pytest tests/e2e/test_hub.py --durations=0
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs nbformat, from the course extra (pip install -e '.[course,test]')")
pytest.importorskip("nbgrader", reason="needs nbgrader, from the course extra (pip install -e '.[course,test]')")

from conftest import ROOT
from expected_scores import fixtures
from test_jupyterlab import browser, free_port  # noqa: F401 - browser: the same module-scoped fixture

from toxlab import labs
from toxlab.grading import solved_notebook

sys.path.insert(0, str(ROOT / "course"))
from hub import deploy  # noqa: E402 - course/ is a folder of scripts

pytestmark = pytest.mark.e2e
OUT = ROOT / "test-output" / "hub"
INSTRUCTOR, ALICE, BOB = "txhteach", "txhalice", "txhbob"  # names no real account on a box is likely to have
LABS = list(labs.LABS)
VALIDATED = "toxicity_lab"  # Validate in the browser for this lab only (each run is a grade-mode notebook run)


@dataclass
class Hub:
    root: Path
    state: deploy.State
    passwords: dict[str, str]
    start_s: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.state.url

    def course(self) -> Path:
        return deploy.course_root(self.state)


def tool(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "course" / "instructor.py"), *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def hub():
    """A hub for this module; stopped, its users removed and its folder deleted even when tests fail."""
    if os.geteuid() != 0:
        pytest.skip("the hub test runs as root: it creates Unix users and spawns servers as them")
    root = Path(tempfile.mkdtemp(prefix="toxlab-hub-"))
    env = os.environ.get("TOXLAB_HUB_ENV", str(deploy.DEFAULT_ENV))
    t = time.time()
    res = tool("hub", "start", "--root", str(root), "--env", env, "--students", f"{ALICE},{BOB}",
               "--instructor", INSTRUCTOR, "--port", str(free_port()))
    try:
        assert res.returncode == 0, f"hub start failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
        state = deploy.State.load(root)
        yield Hub(root, state, deploy.read_passwords(root), time.time() - t)
    finally:
        t = time.time()
        stop = tool("hub", "stop", "--root", str(root), "--remove-users")
        # what the stop did and how long it took, with the hub's log, kept for reading after a suite run
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "stop.txt").write_text(f"hub stop took {time.time() - t:.1f} s\n{stop.stdout}{stop.stderr}")
        with contextlib.suppress(OSError):
            shutil.copy(root / "logs" / "jupyterhub.log", OUT / "jupyterhub.log")
        shutil.rmtree(root, ignore_errors=True)
        assert stop.returncode == 0, stop.stderr[-3000:]
        for user in (INSTRUCTOR, ALICE, BOB):
            assert not deploy.user_exists(user), f"hub stop --remove-users left {user}"


@contextlib.contextmanager
def evidence(page, name: str):
    """On a failed step: save a screenshot under test-output/hub/<name>.png and name it in the assertion."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        yield
    except (AssertionError, PlaywrightError) as e:
        OUT.mkdir(parents=True, exist_ok=True)
        shot = OUT / f"{name}-failed.png"
        with contextlib.suppress(PlaywrightError):
            page.screenshot(path=str(shot), full_page=True)
        raise AssertionError(f"{e}\n  screenshot: {shot}") from e


def login(browser, hub: Hub, user: str, then: str = "hub/home"):
    """A browser context logged in to the hub as `user` (PAM, the generated password), on `then`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login?next=/{then}")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.passwords[user])
    page.click("#login_submit")
    page.wait_for_load_state()
    assert "/hub/login" not in page.url, f"{user} could not log in: {page.url}"
    return context, page


def open_assignments(page) -> None:
    """JupyterLab's Nbgrader menu > Assignment List; wait until it has listed what the exchange holds."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Assignment List", exact=True).click()
    page.locator("#released_assignments_list, #fetched_assignments_list").first.wait_for(timeout=60_000)
    page.wait_for_function("() => !document.querySelector('#released_assignments_list_loading:not([hidden])')",
                           timeout=60_000)


def row(page, listing: str, lab: str):
    return page.locator(f"#{listing} .list_item", has=page.get_by_text(lab, exact=True)).first


def fetched(hub: Hub, user: str, lab: str) -> Path:
    """Where nbgrader fetched `lab` for `user` (their home holds one copy of its notebook)."""
    home = deploy.home(hub.root, user)
    found = [p for p in home.rglob(f"{lab}.ipynb") if ".ipynb_checkpoints" not in p.parts]
    assert len(found) == 1, f"{user}'s copies of {lab}: {found}; their home: {sorted(map(str, home.rglob('*')))[:60]}"
    return found[0]


def put_contents(page, hub: Hub, user: str, path: str, nb) -> None:
    """Save a notebook through the user's server (the contents API JupyterLab saves with), from the logged-in page."""
    status = page.evaluate(
        """async ([url, body]) => {
             const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '';
             const r = await fetch(url, {method: 'PUT', body, headers: {'Content-Type': 'application/json',
                                                                            'X-XSRFToken': decodeURIComponent(xsrf)}});
             return r.status; }""",
        [f"/user/{user}/api/contents/{path}", json.dumps({"type": "notebook", "format": "json", "content": nb})])
    assert status in (200, 201), f"saving {path} as {user}: HTTP {status}"


@pytest.fixture(scope="module")
def cycle(hub, browser):
    """The exchange round trip, once: both students submit, the instructor grades and releases feedback,
    both students fetch it. Returns the hub with each phase's time."""
    t = time.time()

    def bob_submits() -> None:  # the other student: the untouched release, from the command line as their Unix user
        for lab in LABS:
            deploy.as_user(hub.state, BOB, ["nbgrader", "fetch_assignment", lab])
            deploy.as_user(hub.state, BOB, ["nbgrader", "submit", lab])
        hub.timings["bob submitted"] = time.time() - t

    # bob works at the same time as alice, as a class does (and his six nbgrader commands overlap her browser's waits)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    bob = pool.submit(bob_submits)
    context, page = login(browser, hub, ALICE, then=f"hub/spawn/{ALICE}")  # the spawn page starts their server
    with evidence(page, "student-submit"):
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=150_000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        menu = page.locator(".lm-Menu-content").first.inner_text()
        page.keyboard.press("Escape")
        assert "Formgrader" not in menu and "Create assignment" not in menu, f"a student's Nbgrader menu: {menu!r}"
        open_assignments(page)
        for lab in LABS:
            row(page, "released_assignments_list", lab).get_by_role("button", name="Fetch").click()
            row(page, "fetched_assignments_list", lab).wait_for(timeout=60_000)
        hub.timings["alice fetched"] = time.time() - t
        for lab in LABS:
            path = fetched(hub, ALICE, lab)
            source = nbformat.read(hub.course() / "source" / lab / f"{lab}.ipynb", as_version=4)
            put_contents(page, hub, ALICE, str(path.relative_to(deploy.home(hub.root, ALICE))),
                         solved_notebook(nbformat.read(path, as_version=4), source))
        # expand the lab: one row per notebook, with Validate
        page.locator("#fetched_assignments_list a", has_text=VALIDATED).first.click()
        page.locator("#fetched_assignments_list button:visible", has_text="Validate").first.click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=240_000)
        text = dialog.inner_text()
        assert "Success" in text and "passes all the tests" in text, f"Validate of the solved {VALIDATED}: {text[:1500]}"
        dialog.get_by_role("button").last.click()
        hub.timings["alice validated 6a"] = time.time() - t
        for lab in LABS:
            row(page, "fetched_assignments_list", lab).get_by_role("button", name="Submit").click()
            row(page, "submitted_assignments_list", lab).wait_for(timeout=60_000)
        hub.timings["alice submitted"] = time.time() - t

    bob.result(timeout=600)  # raises what bob's commands raised
    pool.shutdown()

    res = tool("hub", "grade", "--root", str(hub.root), "--workers", "2")
    assert res.returncode == 0, f"hub grade:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    hub.timings["instructor graded and released feedback"] = time.time() - t
    hub.grade_log = res.stdout

    with evidence(page, "student-feedback"):
        page.locator("#refresh_assignments_list").click()
        for lab in LABS:
            row(page, "submitted_assignments_list", lab).get_by_role("button", name="Fetch Feedback").click()
        for lab in LABS:
            page.wait_for_function(f"() => [...document.querySelectorAll('#submitted_assignments_list .list_item')]"
                                   f".some(e => e.textContent.includes('{lab}') && e.textContent.includes('view feedback'))",
                                   timeout=60_000)
    for lab in LABS:
        deploy.as_user(hub.state, BOB, ["nbgrader", "fetch_feedback", lab])
    hub.timings["both fetched feedback"] = time.time() - t
    hub.alice_context = context
    yield hub
    context.close()


def feedback_files(hub: Hub, user: str) -> dict[str, Path]:
    found = {}
    for lab in LABS:
        files = sorted((deploy.home(hub.root, user) / lab / "feedback").glob(f"*/{lab}.html"))
        assert files, f"{user} has no feedback for {lab} in ~/{lab}/feedback/"
        found[lab] = files[-1]
    return found


def hidden_lines() -> list[str]:
    """Lines of the hidden checks that only their text would contain (as tests/test_grading_integrity.py)."""
    out = ["HIDDEN TESTS", "hidden=True"]
    for lab in LABS:
        text = (ROOT / "course" / "hidden_checks" / f"{lab}.py").read_text()
        out += [ln.split("(")[0].removeprefix("def ") for ln in text.splitlines() if ln.startswith("def test_")]
        out += [s for s in (ln.strip() for ln in text.splitlines())
                if len(s) > 30 and not s.startswith(("#", '"', "from ", "import ", "def ", "assert "))]
    return out


def test_full_marks_and_zero_graded_by_toxlab_and_returned_through_the_exchange(cycle):
    from nbgrader.api import Gradebook

    hub = cycle
    print("\nhub start", f"{hub.start_s:.0f} s;", ", ".join(f"{k} at {v:.0f} s" for k, v in hub.timings.items()))
    print("\n".join(ln for ln in hub.grade_log.splitlines() if "autograded" in ln and " in " in ln))
    assert "autograded" in hub.grade_log and "released" in hub.grade_log, hub.grade_log
    with Gradebook(f"sqlite:///{hub.course() / 'course' / 'gradebook.db'}") as gb:
        for lab in LABS:
            full = sum(fixtures(lab).POINTS.values())
            got = {}
            for sub in gb.assignment_submissions(lab):
                got[sub.student.id] = sum(g.auto_score or 0 for nb in sub.notebooks for g in nb.grades
                                          if g.name.startswith("check_"))
            assert got == {ALICE: full, BOB: 0}, f"{lab}: {got}"
    leaks = hidden_lines()
    assert len(leaks) > 20
    for user in (ALICE, BOB):
        for lab, path in feedback_files(hub, user).items():
            text = path.read_text(errors="replace")
            last = list(fixtures(lab).POINTS)[-1]
            assert f"{last}: " in text, f"{user}'s {lab} feedback has no verdict for {last}"
            for leak in leaks:
                assert leak not in text, f"{user}'s feedback {path} shows a hidden-check line: {leak!r}"


def test_a_student_cannot_read_hidden_checks_gradebook_course_or_the_other_students_work(cycle, browser):
    hub = cycle
    course = hub.course()
    for user, other in ((ALICE, BOB), (BOB, ALICE)):
        secret = [course / "course" / "hidden_checks" / "toxicity_lab.py", course / "course" / "gradebook.db",
                  course / "source" / "toxicity_lab" / "toxicity_lab.ipynb",
                  course / "course" / "submitted" / other / "toxicity_lab" / "toxicity_lab.ipynb",
                  deploy.home(hub.root, other) / "toxicity_lab" / "toxicity_lab.ipynb"]
        for path in secret:
            assert path.exists(), f"{path} should exist for this check to mean anything"
            res = deploy.as_user(hub.state, user, ["cat", str(path)], check=False)
            assert res.returncode != 0 and "Permission denied" in res.stderr, f"{user} could read {path}"
        for folder in (course, deploy.home(hub.root, other), hub.root / "exchange" / "toxlab" / "inbound",
                       hub.root / "logs"):
            res = deploy.as_user(hub.state, user, ["ls", str(folder)], check=False)
            assert res.returncode != 0 and "Permission denied" in res.stderr, f"{user} could list {folder}"
        res = deploy.as_user(hub.state, user, ["cat", str(hub.root / "passwords.txt")], check=False)
        assert res.returncode != 0, f"{user} could read the passwords"
    # the probe can fail: with the plausible wrong setup, a home left at 0755 (useradd's default on many
    # systems), the other student's fetched notebook is read at once
    leaky = deploy.home(hub.root, ALICE)
    mode = leaky.stat().st_mode & 0o7777
    leaky.chmod(0o755)
    try:
        res = deploy.as_user(hub.state, BOB, ["cat", str(leaky / "toxicity_lab" / "toxicity_lab.ipynb")], check=False)
        assert res.returncode == 0, f"a home at 0755 should leak (else the checks above prove nothing): {res.stderr}"
    finally:
        leaky.chmod(mode)
    context, page = login(browser, hub, BOB)
    try:
        r = page.goto(f"{hub.url}/services/toxlab/formgrader/")
        assert r.status in (403, 404), f"formgrader answered a student {r.status}: {page.content()[:500]}"
        api = context.request.get(f"{hub.url}/services/toxlab/formgrader/api/assignments")
        assert api.status in (403, 404) or "/hub/" in api.url, f"formgrader's API answered a student {api.status}"
    finally:
        context.close()


def test_the_instructor_sees_the_submissions_in_formgrader_through_the_hub(cycle, browser):
    hub = cycle
    context, page = login(browser, hub, INSTRUCTOR)
    try:
        with evidence(page, "formgrader"):
            page.goto(f"{hub.url}/services/toxlab/formgrader/manage_submissions/toxicity_lab")
            for user in (ALICE, BOB):
                page.locator("tr", has_text=user).locator(".score").first.wait_for(timeout=60_000)
            points = sum(fixtures("toxicity_lab").POINTS.values())
            alice = page.locator("tr", has_text=ALICE).locator(".score").first.inner_text().strip()
            assert alice.startswith(f"{points} /"), f"formgrader shows {ALICE} {alice!r}"
            OUT.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT / "formgrader.png"), full_page=True)
    finally:
        context.close()
