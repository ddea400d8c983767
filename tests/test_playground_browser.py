"""The playground in a real browser: Debian's chromium driven by Selenium, against a real server.

The server (uvicorn on 127.0.0.1, a free port, in a thread) and one headless chromium are started
once for the module and stopped at its end. Every control and view is found by its data-testid
(the contract in API.md, "Playground"). Skipped without selenium or without /usr/bin/chromium and
/usr/bin/chromedriver (.ci/run installs them).
"""

import base64
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground needs starlette (mlpnet[playground])")
pytest.importorskip("uvicorn", reason="the playground needs uvicorn (mlpnet[playground])")
pytest.importorskip("selenium", reason="browser tests need selenium")
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("browser tests need Debian's chromium and chromium-driver", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402
from test_playground import CONTRACT  # noqa: E402

import mlpnet  # noqa: E402
from mlpnet.playground import Limits, create_app, running  # noqa: E402


@pytest.fixture(scope="module")
def server():
    app = create_app(Limits(max_epochs_per_second=2000.0))
    with running(app=app) as url:
        yield url, app.state.registry


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    profile = tempfile.mkdtemp(prefix="mlpnet-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1500,1200",
    ]:
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Page:
    """The playground tab: elements by data-testid, waits on the page's own state."""

    def __init__(self, driver, url):
        self.d = driver
        driver.get(url)
        self.wait(lambda: self.js("return window.playground.frames") > 0)

    def __call__(self, testid):
        return self.d.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, condition, timeout=20.0):
        return WebDriverWait(self.d, timeout, poll_frequency=0.05).until(lambda _: condition())

    def epoch(self):
        return int(self("epoch").text)

    def loss(self):
        return float(self("loss").text)

    def set(self, testid, value):
        """Type `value` into an input (or pick it in a select) and fire the change event."""
        element = self(testid)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            self.js(
                "arguments[0].value = arguments[1]; arguments[0].dispatchEvent("
                "new Event('change'))",
                element,
                str(value),
            )
        self.wait(lambda: self.js("return window.playground.busy") == 0)

    def click(self, testid):
        self(testid).click()
        self.wait(lambda: self.js("return window.playground.busy") == 0)

    def step(self):
        epoch = self.epoch()
        self.click("step")
        self.wait(lambda: self.epoch() == epoch + 1)

    def reset(self):
        self.click("reset")
        self.wait(lambda: self.epoch() == 0)

    def boundary(self):
        return self.js("return arguments[0].toDataURL()", self("boundary"))


@pytest.fixture(scope="module")
def page(server, browser):
    return Page(browser, server[0])


@pytest.fixture(autouse=True)
def no_script_errors(request):
    yield
    if "page" in request.fixturenames:
        page = request.getfixturevalue("page")
        assert page.js("return window.playground.errors") == []


def test_every_control_and_view_of_the_contract_is_there(page):
    for testid in CONTRACT:
        assert page(testid).is_displayed(), testid
    options = lambda t: [o.get_attribute("value") for o in Select(page(t)).options]  # noqa: E731
    assert {
        "xor",
        "two_class",
        "four_points",
        "circles",
        "spiral",
        "square",
        "sin",
        "abs",
        "heaviside",
    } <= set(options("dataset"))
    assert options("activation") == [
        "relu",
        "tanh",
        "logistic",
        "softsign",
        "leaky_relu",
        "identity",
    ]
    assert {"gd", "armijo", "exact_line_search", "sgd", "adam", "lbfgs", "random_search"} <= set(
        options("optimizer")
    )
    assert page("layers").get_attribute("value") == "8,8"
    assert page("epoch").text == "0"
    assert len(page("neurons").find_elements(By.TAG_NAME, "canvas")) == 16


def test_training_lowers_the_loss_and_changes_the_boundary(page):
    page.reset()
    loss0, picture0 = page.loss(), page.boundary()
    page.click("start")
    page.wait(lambda: page.epoch() >= 300)
    page.click("pause")
    page.wait(lambda: not page.js("return window.playground.frame.running"))
    time.sleep(0.1)
    assert page.loss() < 0.5 * loss0
    assert page.boundary() != picture0
    norms = page.js("return window.playground.norms")
    assert len(norms) > 3 and len(norms[-1][1]) == 3  # ‖∇_l J‖ for the three layers, over time
    blank = page.js(
        "const c = document.createElement('canvas'); c.width = arguments[0].width; "
        "c.height = arguments[0].height; return c.toDataURL()",
        page("grad-norms"),
    )
    assert page.js("return arguments[0].toDataURL()", page("grad-norms")) != blank
    assert "ms/frame" in page("stats").text


def test_pause_step_and_reset(page):
    page.reset()
    loss0 = page("loss").text
    page.click("start")
    page.wait(lambda: page.epoch() > 20)
    page.click("pause")
    page.wait(lambda: not page.js("return window.playground.frame.running"))
    paused = page.epoch()
    time.sleep(0.3)
    assert page.epoch() == paused
    page.step()
    page.step()
    assert page.epoch() == paused + 2
    page.reset()
    assert page("loss").text == loss0  # θ redrawn from the seed: the same starting loss


@pytest.mark.parametrize(
    ("optimizer", "lr", "batch"),
    [
        ("gd", 0.5, ""),
        ("armijo", 4, ""),
        ("exact_line_search", 1, ""),
        ("sgd", 0.5, 2),
        ("momentum", 0.1, ""),
        ("adam", 0.05, ""),
        ("lbfgs", 1, ""),
        ("random_search", 0.5, ""),
    ],
)
def test_each_optimizer_trains_in_the_page(page, optimizer, lr, batch):
    page.set("batch-size", batch)
    page.set("lr", lr)
    page.set("optimizer", optimizer)
    page.wait(lambda: page.js("return window.playground.frame.epoch") is not None)
    page.reset()
    loss0 = page.loss()
    for _ in range(8):
        page.step()
    assert page("message").text == "" or page("message").text.startswith("stopped")
    assert page.loss() <= loss0
    if optimizer != "random_search":  # random search keeps θ when its proposal is worse
        assert page.loss() < loss0
    page.set("batch-size", "")


def test_bad_parameters_show_a_message_and_the_server_keeps_serving(page):
    page.set("optimizer", "gd")
    page.set("layers", "8,500")
    page.wait(lambda: "per-session limit" in page("message").text)
    assert "32" in page("message").text
    page.set("layers", "8,8")
    page.wait(lambda: page("message").text == "")
    page.set("lr", "-2")
    page.wait(lambda: "learning rate" in page("message").text)
    page.set("lr", "0.5")
    page.set("optimizer", "armijo")
    page.set("batch-size", "2")
    page.click("step")
    page.wait(lambda: "batch_size=None" in page("message").text)  # from mlpnet's fit
    page.set("batch-size", "")
    page.set("layers", "4,4")
    page.wait(lambda: page("message").text == "")
    # the new architecture arrives by the event stream, after the POST has answered
    page.wait(lambda: len(page("neurons").find_elements(By.TAG_NAME, "canvas")) == 8)
    page.step()


def test_clicking_a_sample_shows_its_backpropagation(page):
    page.set("layers", "4,4")
    page.set("dataset", "xor")
    page.step()
    canvas = page("boundary")
    # xor's sample (1, 0): extent [-0.15, 1.15] on a 440-pixel canvas
    x = (1.0 + 0.15) / 1.3 * canvas.size["width"] - canvas.size["width"] / 2
    y = (1.15 - 0.0) / 1.3 * canvas.size["height"] - canvas.size["height"] / 2
    webdriver.ActionChains(page.d).move_to_element_with_offset(canvas, x, y).click().perform()
    page.wait(lambda: "sample 2" in page("backprop").text)
    text = page("backprop").text
    for row in ("l = 1", "l = 2", "l = 3"):
        assert row in text
    assert "x = [1.0000, 0.0000]" in text and "∇W" in text and "δ" in text


def test_the_curves_show_each_units_contribution(page):
    page.set("dataset", "sin")
    page.set("layers", "3")
    page.set("activation", "tanh")
    page.wait(lambda: page.js("return window.playground.setup.kind") == "curve")
    page.wait(lambda: page.js("return window.playground.setup.sizes.join()") == "1,3,1")
    page.set("optimizer", "lbfgs")
    for _ in range(5):
        page.step()
    page.wait(lambda: "contribution" in page("contributions").text)
    frame = page.js("return window.playground.frame")
    assert len(frame["contributions"]) == 3
    assert len(page("neurons").find_elements(By.TAG_NAME, "canvas")) == 3


def test_four_points_draws_the_loss_surface_with_three_paths(page):
    assert not page("surface").is_displayed()
    page.set("dataset", "four_points")
    page.wait(lambda: page("surface").is_displayed())
    for name in ("GD", "Armijo", "SGD"):
        page.wait(lambda name=name: "step 100" in page(f"surface-{name}-caption").text)
    armijo = float(page("surface-Armijo-caption").text.split("J = ")[1])
    start = page.js("return window.playground.surface.paths.Armijo.J[0]")
    assert armijo < start
    page.set("dataset", "xor")
    page.wait(lambda: not page("surface").is_displayed())


def test_two_tabs_train_their_own_networks(page, server):
    url, registry = server
    page.set("optimizer", "gd")
    page.set("lr", "0.5")
    page.set("layers", "8,8")
    page.reset()
    first = page.d.current_window_handle
    page.d.switch_to.new_window("tab")
    other = Page(page.d, url)
    assert len(registry.sessions) == 2
    other.set("dataset", "circles")
    other.wait(lambda: len(other.js("return window.playground.setup.X")) == 200)
    other.click("start")
    other.wait(lambda: other.epoch() > 50)
    other.click("pause")
    page.d.close()  # closing the tab ends its stream and frees its session
    page.d.switch_to.window(first)
    page.wait(lambda: len(registry.sessions) == 1, timeout=20)
    assert page.epoch() == 0 and len(page.js("return window.playground.setup.X")) == 4


def test_export_round_trip(page, server):
    _, registry = server
    page.set("optimizer", "gd")
    page.reset()
    for _ in range(5):
        page.step()
    for old in page.d.downloads.iterdir():
        old.unlink()
    page.click("export-model")
    page.click("export-script")
    page.wait(lambda: sorted(p.suffix for p in page.d.downloads.iterdir()) == [".npz", ".py"])
    model = next(page.d.downloads.glob("*.npz"))
    net = mlpnet.load(model)
    (session,) = registry.sessions.values()
    np.testing.assert_array_equal(net.params, session.snapshot)
    assert "epochs=5" in next(page.d.downloads.glob("*.py")).read_text()
    grid = np.frombuffer(base64.b64decode(page.js("return window.playground.frame.grid")), np.uint8)
    corner = net.predict([[-0.15, 1.15]])[0, 0]  # the boundary's top-left pixel
    assert abs(grid[0] / 255 - corner) <= 0.5 / 255 + 1e-12
