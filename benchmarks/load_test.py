"""Load test: N concurrent browser sessions against one ``panel serve`` on localhost.

Each session opens a dashboard in headless Chromium (one browser, one context per
session) and, for ``--duration`` seconds, nudges a slider with the keyboard and
waits for the plot to update. The latency of one interaction runs from the key
press to the first change of a plot in that page's Bokeh document (new
data in a source, or a plot replaced in its layout) (measured in the page with ``performance.now()``, so it includes the
round trip, the server's computation and the patch arriving back).

Reports errors (console errors, timeouts), latency p50/p95/max, interactions
per second, and the server's resident memory before and after. Not a pass/fail
test: run it by hand, e.g.

    .venv/bin/python benchmarks/load_test.py --sessions 20 --duration 60

Traffic goes only to the server this script starts on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, wait_http  # noqa: E402
from workbench.serve import command  # noqa: E402

WATCH_JS = """
() => {
  window.__wb = {t0: null, lat: []};
  for (const doc of Bokeh.documents) {
    doc.on_change((ev) => {
      // a plot update: new data in a source, or a plot (re)placed in a layout; layout-size echoes,
      // widgets, the status line and the URL do not count
      const m = ev.model;
      const name = (m && m.constructor && m.constructor.__name__) || '';
      const attr = ev.attr || '';
      const isPlot = /ColumnDataSource|GlyphRenderer|Figure|Plot|Row|Column|GridBox|Tabs/.test(name)
                     && !/^(inner|outer)_/.test(attr);
      if (isPlot && window.__wb.t0 !== null) {
        window.__wb.lat.push(performance.now() - window.__wb.t0);
        window.__wb.t0 = null;
      }
    });
  }
}
"""


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, MiB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(k) for k in kids]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


async def session(browser, url: str, selector: str, duration: float, timeout_ms: float, out: dict) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    timeouts = 0
    try:
        await page.goto(url, timeout=120_000)
        await page.wait_for_function("() => window.Bokeh !== undefined && Bokeh.documents.length > 0",
                                     timeout=120_000)
        handle = page.locator(selector).first
        await handle.wait_for(timeout=120_000)
        await page.evaluate(WATCH_JS)
        end = time.monotonic() + duration
        key = "ArrowRight"
        n = 0
        while time.monotonic() < end:
            await page.evaluate("() => { window.__wb.t0 = performance.now(); }")
            await handle.press(key)
            try:
                await page.wait_for_function("() => window.__wb.t0 === null", timeout=timeout_ms)
            except Exception:
                timeouts += 1
                await page.evaluate("() => { window.__wb.t0 = null; }")
            n += 1
            if n % 10 == 0:
                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
        lat = await page.evaluate("() => window.__wb.lat")
    except Exception as exc:  # recorded, the other sessions go on
        errors.append(f"session failed: {exc}")
        lat = []
    finally:
        await context.close()
    out.setdefault("latencies", []).extend(lat)
    out.setdefault("errors", []).extend(errors)
    out["timeouts"] = out.get("timeouts", 0) + timeouts


async def run(args) -> dict:
    from playwright.async_api import async_playwright

    port = free_port()
    proc = subprocess.Popen(command(port=port, address="127.0.0.1"), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict = {}
    try:
        base = f"http://localhost:{port}"
        wait_http(f"{base}/index", 180, proc)
        url = f"{base}/{args.app}{args.query}"
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            # one warm-up session loads the caches and the model code
            await session(browser, url, args.selector, 3, args.timeout * 1000, {})
            mem_before = rss_mib(proc.pid)
            t0 = time.monotonic()
            await asyncio.gather(*[session(browser, url, args.selector, args.duration, args.timeout * 1000, out)
                                   for _ in range(args.sessions)])
            wall = time.monotonic() - t0
            mem_after = rss_mib(proc.pid)
            await browser.close()
        alive = proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lat = sorted(out.get("latencies", []))
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [float("nan")] * 99
    return {
        "app": args.app, "sessions": args.sessions, "duration_s": args.duration,
        "interactions": len(lat) + out.get("timeouts", 0), "updates": len(lat),
        "timeouts": out.get("timeouts", 0), "errors": len(out.get("errors", [])),
        "error_samples": out.get("errors", [])[:5],
        "latency_ms_p50": round(q[49], 1), "latency_ms_p95": round(q[94], 1),
        "latency_ms_max": round(lat[-1], 1) if lat else float("nan"),
        "updates_per_s": round(len(lat) / wall, 2),
        "server_rss_mib_before": round(mem_before, 1), "server_rss_mib_after": round(mem_after, 1),
        "server_alive": alive,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--app", default="hj_landscapes")
    ap.add_argument("--query", default="?dim=2&n=256", help="query string (default: the HJ 2-D view at 256²)")
    ap.add_argument("--selector", default=".wb-hj-t .noUi-handle",
                    help="selector of the slider handle to nudge (default: HJ's t)")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for one update")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=1))


if __name__ == "__main__":
    main()
