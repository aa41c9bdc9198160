"""The Explorer base, the fair pools, escaped text, and the rule that library internals are read
in one adapter module only."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import panel as pn
import param
import pytest

from workbench.ui import Explorer, Status, apply_state, as_text, check_state
from workbench.ui.fair import BACKGROUND, HEAVY, INTERACTIVE, CourteousEvent, FairPool, InFlight

ROOT = Path(__file__).resolve().parents[1]


class Toy(Explorer):
    shared = ("a", "b", "kind")
    filename = "toy"
    run_label = "Go"
    css_prefix = "wb-toy"
    widgets = {"b": pn.widgets.IntInput}

    a = param.Number(default=1.0, bounds=(0.0, 10.0), label="A value", doc="the a")
    b = param.Integer(default=2, bounds=(1, 5), doc="the b")
    kind = param.Selector(default="x", objects=["x", "y"], doc="the kind")
    hidden = param.Number(default=0.0)

    def __init__(self, **params):
        super().__init__(**params)
        self.seen = []
        self.work = self.runner(self.seen.append, pool="heavy")

    def run(self):
        self.work.submit(lambda cancel: (self.a, self.b, self.compute_device))

    def check_state(self, values):
        if values["kind"] == "y" and values["a"] > 5:
            raise ValueError("a must be at most 5 when kind is 'y'")

    def body(self):
        return pn.pane.HTML("toy")


def test_controls_are_generated_from_the_declarations():
    toy = Toy()
    widgets = [w for w in toy.controls().objects if isinstance(w, pn.widgets.Widget)]
    assert [w.name for w in widgets] == ["A value", "B", "Kind"]  # the shared parameters, declared order
    slider, box, select = widgets
    assert isinstance(slider, pn.widgets.FloatSlider) and (slider.start, slider.end) == (0.0, 10.0)
    assert isinstance(box, pn.widgets.IntInput) and isinstance(select, pn.widgets.Select)
    assert slider.css_classes == ["wb-toy-a"] and box.description == "the b"  # doc as tooltip
    slider.value = 3.0  # widgets and parameters are linked both ways
    assert toy.a == 3.0
    toy.b = 4
    assert box.value == 4


def test_run_and_device_are_live():
    toy = Toy()
    toy.run()  # outside a server a runner works synchronously
    assert toy.seen == [(1.0, 2, None)]
    toy.device = "cpu"
    toy.run()
    assert toy.seen[-1] == (1.0, 2, "cpu")  # the device is read when work starts
    toy.device = "tpu"
    with pytest.raises(ValueError, match="device"):
        toy.compute_device


def test_state_is_checked_as_a_unit_independent_of_order():
    toy = Toy()
    for state in ({"a": 7.0, "kind": "y"}, {"kind": "y", "a": 7.0}):  # a rule between parameters
        with pytest.raises(ValueError, match="a must be at most 5 when kind is 'y'"):
            apply_state(toy, state, toy.shared, source="link")
        assert (toy.a, toy.kind) == (1.0, "x")  # nothing changed
    with pytest.raises(ValueError, match="link: b: .*5"):
        apply_state(toy, {"a": 2.0, "b": 99}, toy.shared, source="link")
    assert toy.a == 1.0  # the valid value of a refused state is not applied either
    assert check_state(toy, {"b": 3, "a": 4.0}, toy.shared) == {"b": 3, "a": 4.0}
    deep = {"a": [[[[[[[[[[1.0]]]]]]]]]]}
    with pytest.raises(ValueError, match="nested more than"):
        apply_state(toy, deep, toy.shared)
    with pytest.raises(ValueError, match="unknown keys"):
        apply_state(toy, {"hidden": 1.0}, toy.shared)


def test_user_text_is_shown_as_text():
    payload = '<img src=x onerror="alert(1)"> [x](javascript:alert(1))'
    status = Status()
    status.error(ValueError(f"formula: cannot parse {payload!r}"))
    html = status._alert.value  # the widget's markup: the payload's tags are escaped
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert as_text("a" * 5000).endswith("(3000 more characters)")


def test_a_session_holds_only_its_share_of_the_pool():
    pool = FairPool(workers=2, per_owner=1, name="test-fair")
    release = threading.Event()
    order: list[str] = []
    hogs = [pool.submit("hog", lambda: (release.wait(30), order.append("hog"))) for _ in range(5)]
    time.sleep(0.2)
    assert pool.running("hog") == 1 and pool.queued("hog") == 4  # one worker, not both
    polite = pool.submit("polite", lambda: order.append("polite") or "answered")
    assert polite.result(timeout=10) == "answered" and order == ["polite"]  # not queued behind the hog
    assert pool.drop("hog") == 4  # the hog's session ended: its queued jobs are gone
    release.set()
    hogs[0].result(timeout=10)
    assert all(f.cancelled() for f in hogs[1:]) and order == ["polite", "hog"]


def test_round_robin_between_owners():
    pool = FairPool(workers=1, per_owner=1, name="test-rr")
    gate = threading.Event()
    done: list[str] = []
    first = pool.submit("a", gate.wait, 30)
    futures = [pool.submit(o, done.append, o + str(i)) for i in range(2) for o in ("a", "b")]
    gate.set()
    first.result(timeout=10)
    for f in futures:
        f.result(timeout=10)
    assert done == ["b0", "a0", "b1", "a1"] or done == ["a0", "b0", "a1", "b1"]
    assert [d[0] for d in done[:2]] != ["a", "a"]  # owners take turns


def test_a_low_priority_job_lets_interactive_work_pass():
    flight = InFlight()
    event = CourteousEvent(lambda: flight.busy, patience=0.3)
    start = time.monotonic()
    assert not event.is_set() and time.monotonic() - start < 0.05  # nothing in flight: no wait
    flight.enter()
    threading.Timer(0.1, flight.leave).start()
    start = time.monotonic()
    assert not event.is_set()
    assert 0.08 < time.monotonic() - start < 0.28  # waited until the interactive request was answered
    flight.enter()  # a request that is never answered: the wait is bounded by the patience
    start = time.monotonic()
    assert not event.is_set() and 0.28 < time.monotonic() - start < 0.6
    threading.Timer(0.05, event.set).start()  # a cancel ends the wait at once
    start = time.monotonic()
    assert event.is_set() and time.monotonic() - start < 0.2
    assert HEAVY.courteous and BACKGROUND.courteous and not INTERACTIVE.courteous


PRIVATE = re.compile(r"(?<![\w.])(?!self\b|cls\b)[A-Za-z_]\w*(?:\.\w+)*\._[A-Za-z]\w*")
LIBRARIES = ("panel", "bokeh", "param", "tornado", "holoviews", "pyviz_comms")


def test_library_internals_are_read_in_one_adapter_module_only():
    """No ``obj._private`` of another object, no ``from panel... import _X``, and no
    ``getattr(obj, "_x")`` outside ``workbench/ui/internals.py``."""
    offenders = []
    for path in sorted([*ROOT.glob("workbench/**/*.py"), *ROOT.glob("apps/**/*.py")]):
        if path.name == "internals.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            hits = [m for m in PRIVATE.findall(code) if not m.startswith(("argparse.",))]
            if re.search(rf"from ({'|'.join(LIBRARIES)})[\w.]* import .*\b_\w", code):
                hits.append("import of a private name")
            if re.search(r"getattr\([^,]+,\s*[\"']_[A-Za-z]", code):
                hits.append("getattr of a private name")
            if hits:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {hits}")
    assert offenders == []
