"""A student's view: JupyterLab in a real Chromium, every cell run, a slider moved, the picture redrawn.

For each assignment a reference-filled copy of its release notebook is opened in JupyterLab
(127.0.0.1, a random token), run with Run > Run All Cells, and must show no error and nothing on
stderr. Then every slider whose description matches the assignment's pattern (the learning rate in
04 and 05, the bias in 01 and 02, the seed in 03) is dragged with the mouse: its readout must show
the new value and the picture its callback draws must change (the PNG the browser shows before and
after are compared). Screenshots of the cell before and after go to screenshots/<test>/. For every
slider moved, the time from its last change in the browser to its new picture on screen is printed
and written to screenshots/<test>/redraw-times.txt (reported, never asserted).

Chromium is Debian's (`apt-get install chromium`), driven by Playwright with executable_path.
Without it these tests skip locally and fail under CI=true.
"""
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from colab_env import reference_filled
from course.authoring import notebooks
from course.layout import ASSIGNMENTS, ROOT, notebook_path

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "screenshots"
# the README's picture: the slider cell of this assignment once all cells ran (committed)
README_PICTURE = ROOT / "course" / "assets" / "notebook-slider.png"
README_PICTURE_OF = "04_optimization"
REDRAW_TIMEOUT = 60        # seconds a moved slider's picture has to change (a retrain included)
# assignment -> the sliders to move (matched against their description, case-insensitive)
SLIDERS = {
    "01_initialization": "bias",
    "02_forward": "bias",
    "03_backward": "seed",
    "04_optimization": "learning rate",
    "05_iris_softmax": "learning rate",
}
ERROR_OUTPUTS = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
# the picture a slider drives: the nearest image shown by a widget Output inside the slider's cell
PICTURE_OF_SLIDER = """slider => {
    for (let node = slider.parentElement; node; node = node.parentElement) {
        const image = node.querySelector('.widget-output img, .jupyter-widget-output img');
        if (image) return image.getAttribute('src');
        if (node.classList.contains('jp-Cell')) return null;
    }
    return null;
}"""


def require_chromium():
    """Skip (locally) or fail (CI=true) with how to install the browser."""
    problem = None
    if not CHROMIUM.exists():
        problem = (f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium` "
                   "(Debian; `.ci/system-packages` does it) or set CHROMIUM=/path/to/chromium")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed: `pip install -r requirements.txt`"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run in CI: {problem}")
        pytest.skip(problem)


# --- JupyterLab and the browser -----------------------------------------------------------------

class Lab:
    """JupyterLab serving a throwaway folder, with its own config, settings and workspace dirs.

    A student's JupyterLab by default (folder/course, no nbgrader); instructor=True serves an
    existing course folder `root` with nbgrader's formgrader, started in that folder so that
    nbgrader reads its nbgrader_config.py.
    """

    def __init__(self, folder, root=None, instructor=False):
        self.root = Path(root) if root else folder / "course"
        self.root.mkdir(exist_ok=True)
        home = folder / "jupyter"
        settings = home / "settings"
        self._write(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                    {"fetchNews": "false", "checkForUpdates": False})
        # every cell in the DOM (JupyterLab otherwise renders only what is in view)
        self._write(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings",
                    {"windowingMode": "none"})
        # a student's JupyterLab: no nbgrader, no language servers; an instructor's keeps formgrader
        student_only = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.validate_assignment",
                        "nbgrader.server_extensions.assignment_list", "nbgrader.server_extensions.course_list")
        disabled = ("jupyter_lsp",) + (() if instructor else student_only)
        self._write(home / "config/jupyter_server_config.json",
                    {"ServerApp": {"jpserver_extensions": {name: False for name in disabled}}})
        if not instructor:
            self._write(home / "config/labconfig/page_config.json", {"disabledExtensions": {"@jupyter/nbgrader": True}})
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.token = secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if k not in ("NBGRADER_EXECUTION", "PYTHONWARNINGS", "MPLBACKEND")}
        env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                   IPYTHONDIR=str(home / "ipython"))
        self.log_path = folder / "jupyterlab.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}"],
            env=env, cwd=self.root, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_up(timeout=120)

    @staticmethod
    def _write(path, value):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))

    def api(self, path, method="GET"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def _wait_until_up(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                self.api("/api/status")
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n{self.log_path.read_text()[-3000:]}")

    def page_url(self, path):
        """Any page of the server (e.g. /formgrader/manage_students), logged in by the token."""
        return f"http://127.0.0.1:{self.port}{path}?token={self.token}"

    def url(self, relative_path):
        # reset: a fresh workspace, so the notebooks opened before do not come back as tabs
        return f"http://127.0.0.1:{self.port}/lab/tree/{relative_path}?reset&token={self.token}"

    def shut_down_kernels(self):
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)      # the server and the kernels it started
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_chromium()
    server = Lab(tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


@contextlib.contextmanager
def chromium(profile):
    """Debian's Chromium driven by Playwright: a browser context with its own profile folder."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


# --- what a student does --------------------------------------------------------------------------

def open_and_run_all(page, lab, relative_path, timeout=180):
    """Open a notebook, Run > Run All Cells, and wait until every code cell has run.
    Returns the notebook's panel (the locator every later check looks inside)."""
    page.goto(lab.url(relative_path))
    panel = page.locator(".jp-NotebookPanel:visible").first
    panel.locator(".jp-CodeCell").first.wait_for(timeout=60_000)
    # the status bar says "Python 3 (ipykernel) | Idle" once the kernel is ready for the cells
    page.locator(".jp-StatusBar-Widget").filter(has_text=re.compile(r"\| Idle")).first.wait_for(timeout=90_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    deadline = time.monotonic() + timeout
    while True:
        prompts = [p.strip() for p in panel.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()]
        finished = prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts)
        stopped = "[*]:" not in prompts and panel.locator(ERROR_OUTPUTS).count() > 0
        if finished or stopped:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"{relative_path}: cells still not run after {timeout} s (prompts {prompts})")
        time.sleep(0.5)
    return panel


def shown_errors(panel):
    """The error tracebacks and stderr the notebook shows, in cells and inside widgets."""
    errors = [text.strip()[:400] for text in panel.locator(ERROR_OUTPUTS).all_inner_texts()]
    broken = panel.get_by_text("Error displaying widget").count()
    return errors + [f"{broken} widget(s) show 'Error displaying widget'"] * bool(broken)


# records, in the page, when the slider's value changes and when a new picture is on screen
# (two animation frames after the image element changed: the frame that paints it has passed)
WATCH_SLIDER = """slider => {
    const picture = """ + PICTURE_OF_SLIDER + """;
    const cell = slider.closest('.jp-Cell');
    const log = {changes: [], pictures: [], last: picture(slider)};
    new MutationObserver(() => log.changes.push(performance.now()))
        .observe(slider.querySelector('.noUi-handle'), {attributes: true, attributeFilter: ['aria-valuenow']});
    new MutationObserver(() => {
        const src = picture(slider);
        if (src && src !== log.last) {
            log.last = src;
            requestAnimationFrame(() => requestAnimationFrame(() => log.pictures.push([performance.now(), src])));
        }
    }).observe(cell, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
    slider.__redrawLog = log;
}"""
# milliseconds from the slider's last value change to the first time its final picture was on screen
REDRAW_LATENCY = """(slider, final) => {
    const log = slider.__redrawLog;
    const changed = log.changes.length ? log.changes[log.changes.length - 1] : null;
    const shown = log.pictures.find(([time, src]) => src === final && time >= changed);
    return changed === null || !shown ? null : shown[0] - changed;
}"""


def slider_state(slider):
    handle = slider.locator(".noUi-handle")
    return {"value": float(handle.get_attribute("aria-valuenow")),
            "readout": slider.locator(".widget-readout").inner_text().strip(),
            "picture": slider.evaluate(PICTURE_OF_SLIDER)}


def readout_number(text):
    return float(text.replace("\u2212", "-"))      # ipywidgets writes a real minus sign


def readout_matches(readout, value):
    """The readout shows the slider's value (a log slider's readout shows base**value; base 10 here)."""
    shown = readout_number(readout)
    return any(abs(shown - expected) <= 0.011 * max(1.0, abs(expected)) for expected in (value, 10 ** value))


def drag(page, slider):
    """Drag the slider's handle a quarter of the track towards the side with more room."""
    slider.scroll_into_view_if_needed()
    handle = slider.locator(".noUi-handle").bounding_box()
    track = slider.locator(".noUi-base").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    direction = 1 if x < track["x"] + track["width"] / 2 else -1
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + direction * track["width"] / 4, y, steps=4)
    page.mouse.up()


def wait_for_redraw(slider, before, timeout):
    """The slider's state once its picture differs from `before` and has stopped changing."""
    deadline = time.monotonic() + timeout
    last, stable_since = None, None
    while time.monotonic() < deadline:
        state = slider_state(slider)
        if state["picture"] and state["picture"] != before["picture"]:
            if state["picture"] == last:
                if time.monotonic() - stable_since > 1.5:
                    return state
            else:
                last, stable_since = state["picture"], time.monotonic()
        time.sleep(0.25)
    return slider_state(slider)


def check_sliders_redraw(page, panel, description, shots, redraw_timeout=REDRAW_TIMEOUT, report=print):
    """Move every slider whose description matches; returns the problems found.

    For each slider moved, `report` gets a line with the time from its last change in the browser
    to its new picture on screen (a measurement, not a check: the tests assert no times)."""
    sliders = panel.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(description, re.IGNORECASE)))
    if sliders.count() == 0:
        labels = panel.locator(".widget-slider .widget-label").all_inner_texts()
        return [f"no slider whose description contains {description!r} (sliders: {labels})"]
    problems = []
    for index in range(sliders.count()):
        slider = sliders.nth(index)
        label = slider.locator(".widget-label").inner_text().strip()
        cell = slider.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')][1]")
        name = f"{index + 1}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}"
        before = slider_state(slider)
        if not before["picture"]:
            problems.append(f"slider {label!r} has no picture next to it")
            continue
        cell.screenshot(path=str(shots / f"{name}-before.png"))
        slider.evaluate(WATCH_SLIDER)
        drag(page, slider)
        after = wait_for_redraw(slider, before, redraw_timeout)
        latency = slider.evaluate(REDRAW_LATENCY, after["picture"])
        report(f"slider {label!r} {before['readout']} -> {after['readout']}: new picture on screen "
               + (f"{latency:.0f} ms after the change" if latency is not None else "(not timed: no change seen)"))
        cell.screenshot(path=str(shots / f"{name}-after.png"))
        if after["value"] == before["value"]:
            problems.append(f"slider {label!r} did not move when dragged (value {before['value']})")
        if after["readout"] == before["readout"] or not readout_matches(after["readout"], after["value"]):
            problems.append(f"slider {label!r}: readout {before['readout']!r} -> {after['readout']!r} "
                            f"does not show the new value {after['value']}")
        if after["picture"] == before["picture"]:
            problems.append(f"slider {label!r} moved {before['readout']} -> {after['readout']} "
                            f"but its picture did not change within {redraw_timeout} s")
    return problems + shown_errors(panel)


def save_readme_picture(panel, description):
    """The first matching slider's cell with its picture, as the student sees it after Run All, into README_PICTURE."""
    slider = panel.locator(".widget-slider").filter(
        has=panel.page.locator(".widget-label", has_text=re.compile(description, re.IGNORECASE))).first
    cell = slider.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')][1]")
    README_PICTURE.parent.mkdir(parents=True, exist_ok=True)
    cell.screenshot(path=str(README_PICTURE))
    assert README_PICTURE.read_bytes().startswith(b"\x89PNG")


def screenshot_folder(request):
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


# --- the tests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_runs_and_its_slider_redraws_in_jupyterlab(assignment, lab, browser, request, capsys):
    nb = reference_filled(assignment)
    relative = notebook_path("release", assignment, root=".").as_posix().removeprefix("release/")
    notebooks.write(nb, lab.root / relative)
    shots = screenshot_folder(request)
    with capsys.disabled():
        print(f"\n  screenshots of {assignment}: {shots.relative_to(ROOT)}/", end="")
    page = browser.new_page()
    try:
        started = time.monotonic()
        panel = open_and_run_all(page, lab, relative)
        page.screenshot(path=str(shots / "0-after-run-all.png"))
        errors = shown_errors(panel)
        assert errors == [], f"{relative} shows errors after Run All:\n  " + "\n  ".join(errors)
        if assignment == README_PICTURE_OF:
            save_readme_picture(panel, SLIDERS[assignment])
        ran = time.monotonic()
        timings = []
        problems = check_sliders_redraw(page, panel, SLIDERS[assignment], shots, report=timings.append)
        with capsys.disabled():
            print("".join(f"\n    {assignment}: {line}" for line in timings), end="")
        (shots / "redraw-times.txt").write_text("".join(f"{line}\n" for line in timings))
        with capsys.disabled():
            print(f" (open + run all {ran - started:.0f} s, sliders {time.monotonic() - ran:.0f} s)", end="")
        assert problems == [], f"{relative}:\n  " + "\n  ".join(problems)
    finally:
        page.close()
        lab.shut_down_kernels()
