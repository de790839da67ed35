"""A headless Chromium page at an exact viewport width, over the DevTools protocol.

``--window-size`` cannot make a viewport narrower than 500 px in headless Chromium, so a page
"at 400 px" laid out at 500 and was cropped; device metrics emulation gives the real width.
Used by the browser tests (layout measured in the page) and by ``scripts/screenshots``
(``python tests/reporting/chromium.py PAGE.html WIDTH HEIGHT OUT.png``).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import websocket

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One tab: ``call`` sends a DevTools command and returns its result."""

    def __init__(self, url: str) -> None:
        self._socket = websocket.create_connection(url, timeout=60)
        self._ids = itertools.count(1)

    def call(self, method: str, **params: object) -> dict:
        number = next(self._ids)
        self._socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page (DevTools is not bound by its CSP)."""
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def screenshot(self, path: Path, height: int) -> None:
        clip = {"x": 0, "y": 0, "width": self.evaluate("window.innerWidth"), "height": height, "scale": 1}
        path.write_bytes(
            base64.b64decode(self.call("Page.captureScreenshot", format="png", clip=clip)["data"])
        )


@contextmanager
def open_page(page: Path, width: int, height: int = 2000) -> Iterator[Page]:
    """``page`` loaded offline (every host unresolvable) in a viewport ``width`` px wide."""
    assert CHROMIUM, "chromium is not installed"
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "--no-first-run",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
                assert time.monotonic() < deadline, "chromium did not start"
                time.sleep(0.1)
            port = port_file.read_text().split("\n")[0]
            targets = json.loads(_get(f"http://127.0.0.1:{port}/json/list"))
            tab = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
            tab.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            tab.call("Page.enable")
            url = page.resolve().as_uri()
            tab.call("Page.navigate", url=url)
            loaded = f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
            while not tab.evaluate(loaded):  # not about:blank, complete before the navigation
                assert time.monotonic() < deadline + 60, f"chromium did not load {page}"
                time.sleep(0.1)
            yield tab
        finally:
            process.terminate()
            process.wait(timeout=30)


def _get(url: str) -> str:
    from urllib.request import ProxyHandler, build_opener

    with build_opener(ProxyHandler({})).open(url, timeout=30) as response:  # localhost, no proxy
        return response.read().decode()


# Per table: fully visible in the viewport, or alone in a box that scrolls sideways and fits it.
LAYOUT = """(() => {
  const width = window.innerWidth;
  const tables = [...document.querySelectorAll('table')].map(t => {
    const visible = t.getBoundingClientRect().right <= width + 0.5;
    let box = t.parentElement;
    while (box && box !== document.body && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
    const own = !!box && box !== document.body && box.querySelectorAll('table').length === 1
      && box.textContent.trim() === t.textContent.trim();
    const scrolls = own && box.getBoundingClientRect().right <= width + 0.5;
    return visible ? 'visible' : scrolls ? 'scrolls in its box' : 'cut off: ' + t.textContent.slice(0, 40);
  });
  return {width, scrollWidth: document.documentElement.scrollWidth, tables};
})()"""


if __name__ == "__main__":
    html, shot_width, shot_height, out = sys.argv[1:5]
    with open_page(Path(html), int(shot_width), int(shot_height)) as tab:
        tab.screenshot(Path(out), int(shot_height))
