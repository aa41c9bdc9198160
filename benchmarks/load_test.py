"""Load test: N concurrent sessions against one ``panel serve`` on localhost.

Two kinds of client, both real Bokeh sessions of the served app:

* ``--client ws`` (default): each session is a Bokeh websocket client (``bokeh.client``,
  one thread each): it pulls the document, sends widget changes as a browser does
  (over a socket without Nagle's algorithm, like a browser's), and reads the server's
  patches without decoding them into a document, so on a 2-core machine the figures measure the server rather than 20 renderers competing
  with it for the same cores;
* ``--client browser``: each session is a page in headless Chromium (one browser, one
  context per session); latencies then include rendering in the page.

Each session nudges a slider (HJ's ``t`` by default) by one step, waits for the
plot to update, (optionally pauses ``--think`` seconds) and repeats for
``--duration`` seconds, turning back every ten steps. The latency of one interaction runs from the change of the slider value to
the moment a plot title arriving from the server shows the new value (HJ's maps
are titled "... (t=0.101)"): the round trip, Panel's 50 ms debounce of widget
events, the server's computation and the patch. Reports errors (console errors, failed requests, timeouts), latency
p50/p95/max, updates per second, the server's CPU seconds per update (and the part of it
in niced background threads) and its
resident memory before and after. Not a pass/fail test: run it by hand, e.g.

    .venv/bin/python benchmarks/load_test.py --sessions 20 --duration 60
    .venv/bin/python benchmarks/load_test.py --client browser --sessions 20 --duration 60
    .venv/bin/python benchmarks/load_test.py --sessions 8 --think 1 --hostile 4 --duration 60

``--hostile M`` adds M hostile websocket clients beside the polite ones: each, again and again,
opens the HJ view with the largest allowed optimizer study (100 000 starts x 1000 steps),
presses Run and disconnects two seconds later; the report then says how the polite sessions
fared (latency, errors) and the server's memory.

Traffic goes only to the server this script starts on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, wait_http  # noqa: E402
from workbench.serve import command  # noqa: E402

WATCH_JS = """
() => {
  // an interaction is answered when a plot title shows the new slider value, e.g. "(t=0.101)":
  // earlier patches (the rest of a previous answer) do not count
  window.__wb = {t0: null, lat: [], expect: null};
  const fmt = (v) => 't=' + Number(Number(v).toPrecision(3)).toString() + ')';
  for (const doc of Bokeh.documents) {
    doc.on_change((ev) => {
      const m = ev.model;
      const name = (m && m.constructor && m.constructor.__name__) || '';
      if (name === 'Slider' && ev.attr === 'value' && window.__wb.t0 !== null) {
        window.__wb.expect = fmt(ev.value);
      } else if (name === 'Title' && ev.attr === 'text' && window.__wb.expect !== null
                 && String(ev.value).includes(window.__wb.expect)) {
        window.__wb.lat.push(performance.now() - window.__wb.t0);
        window.__wb.t0 = null;
        window.__wb.expect = null;
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
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url[:120]}"))
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
            await page.evaluate("() => { window.__wb.t0 = performance.now(); window.__wb.expect = null; }")
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


def ws_session(url: str, arguments: dict, title: str, duration: float, timeout: float, think: float,
               out: dict, lock: threading.Lock) -> None:
    """One websocket session: nudge the slider titled ``title``, time each plot update."""
    import panel.models  # noqa: F401  the document holds Panel's models
    from bokeh.client import pull_session
    from bokeh.document.events import MessageSentEvent
    from bokeh.events import DocumentReady
    from bokeh.models import Slider
    from tornado.ioloop import IOLoop

    asyncio.set_event_loop(asyncio.new_event_loop())
    state = {"t0": None, "lat": [], "timeouts": 0, "n": 0, "sign": 1, "timer": None, "expect": ""}
    try:
        session = pull_session(url=url, arguments=arguments)
    except Exception as exc:
        with lock:
            out.setdefault("errors", []).append(f"session failed: {exc}")
        return
    # a browser sends without Nagle's algorithm (TCP_NODELAY); without it each small message the
    # client sends waits for the server's delayed ACK (~40 ms on Linux) and the figures measure that
    session._connection._socket._socket.protocol.set_nodelay(True)
    doc, loop = session.document, IOLoop.current()
    slider = next(m for m in doc.models if isinstance(m, Slider) and m.title == title)
    end = time.monotonic() + duration

    def nudge() -> None:
        if time.monotonic() > end:
            session.close()
            return
        state["n"] += 1
        if state["n"] % 10 == 0:
            state["sign"] *= -1
        value = min(max(slider.value + state["sign"] * slider.step, slider.start), slider.end)
        value = round(value, 9)
        state["expect"] = f"t={value:.3g})"
        state["t0"] = time.perf_counter()
        slider.value = value
        state["timer"] = loop.call_later(timeout, timed_out)

    def timed_out() -> None:
        state["timeouts"] += 1
        state["t0"] = None
        nudge()

    def on_patch(message) -> None:
        # answered when a plot title arriving from the server shows the new value, e.g.
        # "(t=0.101)"; earlier patches (the rest of a previous answer) do not count. Patches are
        # read, not applied: decoding images into a client-side document is a browser's work
        # (on the user's machine), which would otherwise load this machine's cores
        if state["t0"] is None:
            return
        for event in message.content.get("events", []):
            if event.get("kind") == "ModelChanged" and event.get("attr") == "text" \
                    and state["expect"] in str(event.get("new")):
                state["lat"].append((time.perf_counter() - state["t0"]) * 1000)
                state["t0"] = None
                loop.remove_timeout(state["timer"])
                loop.call_later(think, nudge)
                return

    session._handle_patch = on_patch
    # a browser announces that it rendered the page; Panel runs its on-load work then
    doc.callbacks.trigger_on_change(MessageSentEvent(doc, "bokeh_event", DocumentReady()))
    loop.call_later(1.0, nudge)
    session._loop_until_closed()
    with lock:
        out.setdefault("latencies", []).extend(state["lat"])
        out["timeouts"] = out.get("timeouts", 0) + state["timeouts"]
        out.setdefault("errors", [])


HOSTILE_QUERY = {"landscape": "rastrigin", "dim": "2", "n": "64", "n_starts": "100000", "n_steps": "1000"}


def hostile_session(url: str, duration: float, out: dict, lock: threading.Lock) -> None:
    """Open the largest allowed job, press Run, leave after 2 s; repeat until ``duration`` is over."""
    import panel.models  # noqa: F401  the document holds Panel's models
    from bokeh.client import pull_session
    from bokeh.document.events import MessageSentEvent
    from bokeh.events import ButtonClick, DocumentReady
    from bokeh.models import Button

    asyncio.set_event_loop(asyncio.new_event_loop())
    end, started = time.monotonic() + duration, 0
    while time.monotonic() < end:
        try:
            session = pull_session(url=url, arguments=HOSTILE_QUERY)
        except Exception as exc:
            with lock:
                out.setdefault("hostile_errors", []).append(str(exc))
            time.sleep(1)
            continue
        doc = session.document
        run = next(m for m in doc.models if isinstance(m, Button) and m.label == "Run optimizers")
        for event in (DocumentReady(), ButtonClick(run)):
            doc.callbacks.trigger_on_change(MessageSentEvent(doc, "bokeh_event", event))
        started += 1
        time.sleep(2.0)
        session.close()
        time.sleep(0.5)
    with lock:
        out["hostile_jobs_started"] = out.get("hostile_jobs_started", 0) + started


def run_ws(base: str, args, out: dict) -> None:
    url = f"{base}/{args.app}"
    arguments = dict(parse_qsl(args.query.lstrip("?")))
    lock = threading.Lock()
    # bokeh.client handles each incoming message one level deeper in a chain of awaits: a long
    # session needs a deep stack (virtual memory only)
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(512 * 1024 * 1024)
    warm = threading.Thread(target=ws_session, args=(url, arguments, args.slider, 3, args.timeout, 0.0, {}, lock))
    warm.start()  # warm-up: caches, code paths
    warm.join()
    threads = [threading.Thread(target=ws_session, args=(url, arguments, args.slider, args.duration,
                                                          args.timeout, args.think, out, lock))
               for _ in range(args.sessions)]
    threads += [threading.Thread(target=hostile_session, args=(f"{base}/hj_landscapes", args.duration, out, lock))
                for _ in range(args.hostile)]
    out["_before"] = snapshot(out["_pid"])
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU seconds of a process, and of its threads running at a lower priority
    (nice > 0: the background worker of optional refinements), from /proc."""
    def fields(path: Path) -> list[str]:
        return path.read_text().rsplit(")", 1)[1].split()

    tick = os.sysconf("SC_CLK_TCK")
    own = fields(Path(f"/proc/{pid}/stat"))
    niced = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            f = fields(task / "stat")
        except OSError:  # the thread ended meanwhile
            continue
        if int(f[16]) > 0:
            niced += int(f[11]) + int(f[12])
    return (int(own[11]) + int(own[12])) / tick, niced / tick


def snapshot(pid: int) -> tuple[float, tuple[float, float], float]:
    return time.monotonic(), cpu_seconds(pid), rss_mib(pid)


async def run_browser(base: str, args, out: dict) -> None:
    from playwright.async_api import async_playwright

    url = f"{base}/{args.app}{args.query}"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # one warm-up session loads the caches and the model code
        await session(browser, url, args.selector, 3, args.timeout * 1000, {})
        out["_before"] = snapshot(out["_pid"])
        await asyncio.gather(*[session(browser, url, args.selector, args.duration, args.timeout * 1000, out)
                               for _ in range(args.sessions)])
        await browser.close()


async def run(args) -> dict:
    port = free_port()
    proc = subprocess.Popen(command(port=port, address="127.0.0.1"), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict = {"_pid": proc.pid}
    try:
        base = f"http://localhost:{port}"
        wait_http(f"{base}/index", 180, proc)
        settled = []
        for round_ in range(args.rounds):  # latencies from the first round; memory after each
            target = out if round_ == 0 else {"_pid": proc.pid}
            if args.client == "ws":
                await asyncio.to_thread(run_ws, base, args, target)
            else:
                await run_browser(base, args, target)
            if round_ == 0:
                after = snapshot(proc.pid)
            # closed sessions are discarded after Bokeh's unused-session lifetime; memory then
            # holds the server, its caches and whatever leaked (a leak grows round after round)
            await asyncio.sleep(args.settle)
            settled.append(round(rss_mib(proc.pid), 1))
        alive = proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    (t0, cpu0, mem_before), (t1, cpu1, mem_after) = out["_before"], after
    wall = t1 - t0
    lat = sorted(out.get("latencies", []))
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [float("nan")] * 99
    return {
        "app": args.app, "query": args.query, "client": args.client, "sessions": args.sessions,
        "duration_s": args.duration, "cpus": os.cpu_count(),
        "interactions": len(lat) + out.get("timeouts", 0), "updates": len(lat),
        "timeouts": out.get("timeouts", 0), "errors": len(out.get("errors", [])),
        "error_samples": out.get("errors", [])[:5],
        "latency_ms_p50": round(q[49], 1), "latency_ms_p95": round(q[94], 1),
        "latency_ms_max": round(lat[-1], 1) if lat else float("nan"),
        "updates_per_s": round(len(lat) / wall, 2),
        "server_cpu_ms_per_update": round(1000 * (cpu1[0] - cpu0[0]) / max(len(lat), 1), 1),
        # of which in threads at a lower priority (niced: they only take cores the rest leaves idle);
        # a thread that ended during the load is counted in the total only
        "server_cpu_ms_per_update_niced": round(1000 * (cpu1[1] - cpu0[1]) / max(len(lat), 1), 1),
        "think_s": args.think if args.client == "ws" else None,
        "server_rss_mib_before": round(mem_before, 1), "server_rss_mib_after": round(mem_after, 1),
        "server_rss_mib_settled_per_round": settled,
        "server_alive": alive,
        "hostile_clients": args.hostile, "hostile_jobs_started": out.get("hostile_jobs_started", 0),
        "hostile_errors": len(out.get("hostile_errors", [])),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--app", default="hj_landscapes")
    ap.add_argument("--query", default="?dim=2&n=256", help="query string (default: the HJ 2-D view at 256²)")
    ap.add_argument("--selector", default=".wb-hj-t .noUi-handle",
                    help="selector of the slider handle to nudge (default: HJ's t)")
    ap.add_argument("--client", choices=["ws", "browser"], default="ws",
                    help="websocket sessions (measure the server) or Chromium pages (include rendering)")
    ap.add_argument("--slider", default="t", help="title of the slider a websocket session nudges")
    ap.add_argument("--think", type=float, default=0.0,
                    help="websocket sessions: seconds between an update and the next nudge (0: back to back)")
    ap.add_argument("--settle", type=float, default=60.0,
                    help="seconds to wait after the load before the last memory reading")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the load this many times on the same server; memory is read after each")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for one update")
    ap.add_argument("--hostile", type=int, default=0,
                    help="hostile clients beside the polite sessions (websocket clients only)")
    args = ap.parse_args()
    if args.hostile and args.client != "ws":
        ap.error("--hostile needs --client ws")
    print(json.dumps(asyncio.run(run(args)), indent=1))


if __name__ == "__main__":
    main()
