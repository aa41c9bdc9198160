"""Screenshots of every dashboard, for the README and the index page's thumbnails.

    .venv/bin/python apps/thumbnails/capture.py [--wait 8]

Serves the dashboards on 127.0.0.1, opens each in headless Chromium at 1400x900 with
the parameters of its declared thumbnail scene (``Dashboard.thumbnail``: query, button to
press, text that shows the result), runs its main action where it has one, waits for the
result, and writes ``apps/thumbnails/<slug>.png`` at 700x450.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, wait_http  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from workbench.family import dashboards  # noqa: E402
from workbench.serve import command  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wait", type=float, default=3.0, help="seconds to let each view settle after its result")
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    port = free_port()
    proc = subprocess.Popen(command(port=port, address="127.0.0.1"), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://localhost:{port}/index", 180, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for entry in dashboards():
                if args.only and entry.slug not in args.only:
                    continue
                query, button, done = entry.thumbnail
                page.goto(f"http://localhost:{port}/{entry.slug}{query}", timeout=120_000)
                page.wait_for_function("() => window.Bokeh !== undefined && Bokeh.documents.length > 0",
                                       timeout=120_000)
                page.wait_for_timeout(2000)
                if button:
                    page.locator(button).first.click()
                if done:
                    page.get_by_text(done).first.wait_for(timeout=600_000)
                # the top of every scrolled area (a click may have scrolled the main one), no hover tooltip
                page.evaluate("() => document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
                page.mouse.move(5, 890)
                page.wait_for_timeout(args.wait * 1000)
                raw = HERE / f"{entry.slug}.raw.png"
                page.screenshot(path=str(raw))
                Image.open(raw).convert("RGB").resize((700, 450), Image.LANCZOS).save(HERE / f"{entry.slug}.png",
                                                                                     optimize=True)
                raw.unlink()
                print("wrote", HERE / f"{entry.slug}.png")
            browser.close()
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
