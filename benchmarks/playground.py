"""Frames per second of the playground's boundary updates, and what one frame costs the server.

    python benchmarks/playground.py                          # server-side figures + SSE client
    python benchmarks/playground.py --browser                # + headless chromium counting draws
    python benchmarks/playground.py --screenshot docs/playground.png

The network is the issue's reference, 2-8-8-1 tanh on xor, full-batch gradient descent (the page's
defaults), training while the frames stream. Figures: frames received per second by an SSE client
(and, with --browser, frames drawn per second by the page), the server's time to build and encode
one frame (forward pass over the 50 × 50 grid, 16 unit pictures, base64, JSON), its size, and the
epochs per second the worker thread kept up meanwhile.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time

import httpx
import numpy as np
from threadpoolctl import threadpool_limits

from mlpnet.playground import Limits, create_app, running


def sse_frames(url, sid, seconds):
    """Frames received in `seconds` over the event stream; their epochs and server costs."""
    frames, started = [], time.perf_counter()
    with httpx.stream("GET", f"{url}api/stream/{sid}", timeout=30) as response:
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "frame":
                frames.append(json.loads(line[6:]))
            if time.perf_counter() - started >= seconds:
                break
    return frames, time.perf_counter() - started


def frame_cost(session, repeats=500):
    """Median seconds to build and JSON-encode one frame, and its size in bytes."""
    extent = session.setup()["extent"]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        data = json.dumps(session.frame(extent), separators=(",", ":"))
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(data)


def browser(url, registry, seconds, screenshot=None):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    options = webdriver.ChromeOptions()
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tempfile.mkdtemp()}",
        "--window-size=1600,1300",
        "--hide-scrollbars",
    ]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    find = lambda t: driver.find_element(By.CSS_SELECTOR, f'[data-testid="{t}"]')  # noqa: E731
    js = driver.execute_script
    try:
        driver.get(url)
        while not js("return window.playground && window.playground.frames"):
            time.sleep(0.05)
        if screenshot:
            Select(find("dataset")).select_by_value("spiral")
            js(
                "arguments[0].value='8,8'; arguments[0].dispatchEvent(new Event('change'))",
                find("layers"),
            )
            Select(find("optimizer")).select_by_value("adam")
            js(
                "arguments[0].value='0.03'; arguments[0].dispatchEvent(new Event('change'))",
                find("lr"),
            )
            time.sleep(0.5)
        find("start").click()
        time.sleep(1.0)
        draws0, frames0, t0 = (
            js("return window.playground.draws"),
            js("return window.playground.frames"),
            time.perf_counter(),
        )
        time.sleep(seconds)
        draws1, frames1, t1 = (
            js("return window.playground.draws"),
            js("return window.playground.frames"),
            time.perf_counter(),
        )
        if screenshot:
            time.sleep(max(0.0, 3.0 - seconds))
            find("pause").click()
            time.sleep(0.3)
            # show the backward pass of the sample the network gets most wrong
            (session,) = [s for s in registry.sessions.values() if s.config.dataset == "spiral"]
            worst = int(np.argmax(np.abs(session.net.predict(session.X) - session.Y)))
            js(
                "window.playground.selected = arguments[0]; fetch(`/api/select/${window.playground"
                ".sid}`, {method: 'POST', body: JSON.stringify({sample: arguments[0]})})",
                worst,
            )
            time.sleep(0.5)
            driver.save_screenshot(screenshot)
            print(f"wrote {screenshot}")
        else:
            find("pause").click()
        return (frames1 - frames0) / (t1 - t0), (draws1 - draws0) / (t1 - t0)
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    # as `mlpnet playground` (mlpnet.playground.serve) sets them: 1 ms GIL switches, 1 BLAS thread
    sys.setswitchinterval(0.001)
    threadpool_limits(limits=1)
    app = create_app(Limits())
    registry = app.state.registry
    with running(app=app) as url:
        sid = httpx.post(url + "api/session").json()["sid"]
        session = registry.sessions[sid]
        print(
            f"network {session.net.sizes}, {session.config.activations[0]}, "
            f"{session.config.optimizer} on {session.config.dataset}"
        )
        cost, size = frame_cost(session)
        print(f"one frame, built and encoded (idle): {cost * 1e3:.2f} ms, {size} bytes of JSON")
        big = create_app(Limits()).state.registry.create()
        big.configure({"dataset": "spiral", "samples": 2000, "layers": "32,32,32,32,32,32"})
        cost, size = frame_cost(big, repeats=30)
        t = time.perf_counter()
        big.start(20)
        big.join()
        print(
            f"at the limits (2-32x6-1, 2000 samples): one frame {cost * 1e3:.1f} ms, {size} "
            f"bytes; {20 / (time.perf_counter() - t):.0f} epochs/s of full-batch GD"
        )
        big.close()
        httpx.post(f"{url}api/control/{sid}/start")
        epoch0 = session.epoch
        frames, seconds = sse_frames(url, sid, args.seconds)
        fps, epochs = len(frames) / seconds, (session.epoch - epoch0) / seconds
        costs = [f["cost_ms"] for f in frames[5:]]
        print(
            f"SSE client: {fps:.1f} frames/s over {seconds:.1f} s "
            f"(limit {registry.limits.frames_per_second:g}); server cost while training "
            f"{statistics.median(costs):.2f} ms/frame (median); training kept "
            f"{epochs:.0f} epochs/s (limit {registry.limits.max_epochs_per_second:g})"
        )
        httpx.post(f"{url}api/control/{sid}/pause")
        if args.browser or args.screenshot:
            received, drawn = browser(
                url, registry, args.seconds if args.browser else 2.0, args.screenshot
            )
            print(f"chromium (headless): {received:.1f} frames/s received, {drawn:.1f} drawn")


if __name__ == "__main__":
    main()
