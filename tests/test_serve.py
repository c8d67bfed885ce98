"""`relief serve`: the what-if settings (checked on the server, turned into `--set` overrides,
solved on a persistent session) and the page itself in a real headless Chromium.

The browser tests need Debian's `chromium` and the `playwright` package (pointed at that
browser, never downloading its own); `.ci/run` sets RELIEF_REQUIRE_BROWSER=1, so in CI a
missing browser fails rather than skips.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cliutil import ENV, relief_exe, run_in_process
from hypothesis import given, settings
from hypothesis import strategies as st

from relief.model.analyses.whatif import Settings, SettingsError, WhatIf, parse_settings
from relief.model.core.case import load_case

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "inputs" / "korea-2026"
TINY = ROOT / "examples" / "tiny"
CHROMIUM = shutil.which("chromium")
SMALL_BUDGET = 0.05  # the default case's expected relief falls from 71.54 to 66.72 at this scale
SMALL_RELIEF = "66.72"  # as the page shows it (test_budget_scale_changes_the_default_case_relief checks it)


@pytest.fixture(scope="module")
def tiny():
    case = load_case(TINY)
    return case, WhatIf(case)


@pytest.fixture(scope="module")
def default():
    case = load_case(DEFAULT)
    return case, WhatIf(case)


def solve_json(case_dir, *args) -> dict:
    r = run_in_process("solve", case_dir, "--json", *args)
    assert r.returncode in (0, 3), r.stderr
    return json.loads(r.stdout)


# --- the settings, on the server --------------------------------------------------------------


def test_settings_become_the_set_overrides_relief_solve_takes(default):
    case, _ = default
    s = parse_settings(case, "?budget=0.67&p.hardline_301=0.5&capex.us_fab_module=1.3&force=us_steel_mill&risk=worst")
    assert s.overrides() == [
        "budget.*.public_budget_usd_bn*=0.67",
        "scenarios.hardline_301.probability=0.5",
        "levers.us_fab_module.capex_per_module*=1.3",
        "case.risk_measure=worst",
    ]
    assert s.force == ("us_steel_mill",)


@pytest.mark.parametrize(
    ("query", "args"),
    [
        (f"?budget={SMALL_BUDGET}", ["--set", f"budget.*.public_budget_usd_bn*={SMALL_BUDGET}"]),
        (
            f"?budget={SMALL_BUDGET}&exclude=us_steel_mill&p.lapse=0.3",
            ["--set", f"budget.*.public_budget_usd_bn*={SMALL_BUDGET}", "--set", "scenarios.lapse.probability=0.3"]
            + ["--exclude", "us_steel_mill"],
        ),
    ],
)
def test_default_case_relief_equals_relief_solve(default, query, args):
    case, whatif = default
    ans = whatif.answer(parse_settings(case, query))
    want = solve_json(DEFAULT, *args)
    assert ans.ok, ans.message
    assert ans.figures["expected_relief"] == pytest.approx(want["expected_relief"], abs=1e-6)
    assert ans.figures["public_spend"] == pytest.approx(want["public_spend"], abs=1e-6)
    assert ans.figures["by_scenario"] == pytest.approx(want["by_scenario"], abs=1e-6)


def test_budget_scale_changes_the_default_case_relief(default):
    case, whatif = default
    full = whatif.answer(Settings()).figures["expected_relief"]
    small = whatif.answer(parse_settings(case, f"?budget={SMALL_BUDGET}")).figures["expected_relief"]
    assert small < full - 1  # the browser test needs a move that shows
    from relief.cli.serve import fmt

    assert fmt(small) == SMALL_RELIEF


@pytest.mark.parametrize(
    "query",
    ["", "?capex.chips=2", "?p.deal=0.2", "?credit.hard=0.5&risk=worst", "?risk=cvar:0.5:0.5", "?force=lng"],
)
def test_tiny_case_relief_equals_relief_solve(tiny, query):
    case, whatif = tiny
    s = parse_settings(case, query)
    ans = whatif.answer(s)
    args = [a for o in s.overrides() for a in ("--set", o)] + [a for l in s.force for a in ("--force", l)]
    want = solve_json(TINY, *args)
    assert ans.figures["expected_relief"] == pytest.approx(want["expected_relief"], abs=1e-9)
    assert ans.figures["schedule"] == {l: {y: float(m) for y, m in ys.items()} for l, ys in want["schedule"].items()}


def test_tiny_case_without_money_buys_nothing(tiny):
    # by hand: every lever of examples/tiny needs public money (public_share > 0), so a zero
    # budget builds nothing and no tier above the baseline is reached: relief 0
    case, whatif = tiny
    ans = whatif.answer(parse_settings(case, "?budget=0"))
    assert ans.figures["expected_relief"] == 0 and ans.figures["schedule"] == {}


def test_infeasible_setting_is_explained_in_words(tiny):
    case, whatif = tiny
    ans = whatif.answer(parse_settings(case, "?budget=0&force=smelter"))
    assert not ans.ok and ans.status == "infeasible"
    assert any("smelter" in c and "budget" in c for c in ans.conflicts), ans.conflicts


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?p.hard=1.5", "probability of hard: 1.5 is outside [0, 1]"),
        ("?p.deal=0.9&p.hard=0.9", "sum to 1.8"),
        ("?budget=lots", "budget scale: 'lots' is not a number"),
        ("?budget=nan", "outside"),
        ("?budget=-1", "outside"),
        ("?capex.nowhere=2", "no lever 'nowhere'"),
        ("?force=../../etc/passwd", "no lever '../../etc/passwd'"),
        ("?force=chips&exclude=chips", "both forced and excluded: chips"),
        ("?p.nobody=0.1", "no stance 'nobody'"),
        ("?risk=cvar:2:1", "ALPHA must be in [0, 1)"),
        ("?case=/tmp/x", "unknown setting 'case'"),
    ],
)
def test_bad_settings_give_a_message(tiny, query, message):
    with pytest.raises(SettingsError, match=None) as e:
        parse_settings(tiny[0], query)
    assert message in str(e.value)


@settings(max_examples=60, deadline=None)
@given(
    budget=st.sampled_from([1.0, 0.0, 0.5, 2.25]),
    p=st.one_of(st.none(), st.floats(0, 1).map(lambda v: round(v, 3))),
    capex=st.one_of(st.none(), st.floats(0.1, 5).map(lambda v: round(v, 2))),
    force=st.lists(st.sampled_from(["smelter", "chips"]), unique=True),
    risk=st.sampled_from(["expected", "worst", "cvar:0.5:0.25"]),
)
def test_address_round_trips(tiny, budget, p, capex, force, risk):
    case = tiny[0]
    q = {"budget": budget, "force": force, "risk": risk}
    if p is not None:
        q["p.deal"] = p
    if capex is not None:
        q["capex.lng"] = capex
    s = parse_settings(case, q)
    assert parse_settings(case, s.query()) == s


# --- the command ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(*args, wait_for="relief serve: http"):
    proc = subprocess.Popen(
        [relief_exe(), "serve", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if wait_for in line:
            return proc, lines
    proc.kill()
    pytest.fail("relief serve did not start: " + "".join(lines))


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_another_host_warns_and_the_address_is_printed():
    port = free_port()
    proc, lines = start(TINY, "--port", port, "--host", "0.0.0.0")
    stop(proc)
    text = "".join(lines)
    assert "warning: --host 0.0.0.0 lets other machines" in text
    assert f"http://0.0.0.0:{port}/" in text


def test_bad_port_is_an_input_error():
    r = run_in_process("serve", "--port", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr


# --- the page, in headless Chromium -----------------------------------------------------------


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("serve-runs")


@pytest.fixture(scope="module")
def server(runs_dir):
    port = free_port()
    proc, _ = start(DEFAULT, "--port", port, "--runs-dir", runs_dir)
    yield f"http://127.0.0.1:{port}/"
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("RELIEF_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (`.ci/run` installs Debian's chromium package)")
        pytest.skip("chromium is not installed; set RELIEF_REQUIRE_BROWSER=1 to make this a failure")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


def open_page(browser, url, width=1366, ready="#expected-relief"):
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    page = ctx.new_page()
    errors: list = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector(ready, timeout=30000)
    return ctx, page, errors


def choose(page, dropdown: str, value: str) -> None:
    """Pick one option of a Dash multi-select dropdown: open it, search, click the option.
    (Typing and pressing Enter raced the popover's opening on a busy machine.)"""
    page.click(dropdown)
    page.fill(".dash-dropdown-content .dash-dropdown-search", value, timeout=30000)
    page.click(f".dash-dropdown-content [role=option]:has(input[value='{value}'])", timeout=30000)
    page.keyboard.press("Escape")
    page.wait_for_function(f"location.search.includes('{value}')", timeout=60000)


def check_drawn(page, shot: Path) -> None:
    """Every chart drawn (a plot with an SVG of some size) and nothing wider than the window."""
    sizes = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')].map(g => {"
        " const r = g.querySelector('svg.main-svg').getBoundingClientRect(); return [r.width, r.height, g.id]; })"
    )
    assert len(sizes) == 4 and all(w > 200 and h > 80 for w, h, _ in sizes), sizes
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def timeline_levers(page) -> set:
    return set(page.evaluate("document.querySelector('#timeline .js-plotly-plot').data[0].y || []"))


def set_box(page, selector, value, expect_in_address):
    page.fill(selector, str(value))
    page.press(selector, "Enter")
    page.wait_for_function(f"location.search.includes({json.dumps(expect_in_address)})", timeout=15000)
    page.wait_for_function(
        "!document.querySelector('[data-dash-is-loading=\"true\"]')", timeout=15000
    )  # the re-solve answered


def shown_relief(page, want: str) -> str:
    page.wait_for_function(
        f"document.querySelector('#expected-relief').innerText === {json.dumps(want)}", timeout=15000
    )
    return page.inner_text("#expected-relief")


def test_page_moves_like_relief_solve_and_the_address_carries_the_state(server, browser, tmp_path):
    from relief.cli.serve import fmt

    ctx, page, errors = open_page(browser, server)
    check_drawn(page, tmp_path / "1366.png")
    assert page.inner_text("#expected-relief") == fmt(solve_json(DEFAULT)["expected_relief"])
    assert "us_steel_mill" in timeline_levers(page)

    # the budget control: exactly what relief solve --set gives at that value
    set_box(page, "#budget-box", SMALL_BUDGET, f"budget={SMALL_BUDGET}")
    want = fmt(solve_json(DEFAULT, "--set", f"budget.*.public_budget_usd_bn*={SMALL_BUDGET}")["expected_relief"])
    assert shown_relief(page, want) == want

    # excluding a lever drops it from the timeline
    choose(page, "#exclude", "us_steel_mill")
    page.wait_for_function("location.search.includes('exclude=us_steel_mill')", timeout=15000)
    page.wait_for_function(
        "!(document.querySelector('#timeline .js-plotly-plot').data[0].y || []).includes('us_steel_mill')",
        timeout=15000,
    )
    both = solve_json(DEFAULT, "--set", f"budget.*.public_budget_usd_bn*={SMALL_BUDGET}", "--exclude", "us_steel_mill")
    shown = shown_relief(page, fmt(both["expected_relief"]))
    address = page.url
    assert errors == []

    # a copied address reproduces the state in another context; that context's moves stay its own
    ctx2, page2, errors2 = open_page(browser, address, width=1024)
    assert shown_relief(page2, shown) == shown
    assert "us_steel_mill" not in timeline_levers(page2)
    check_drawn(page2, tmp_path / "1024.png")
    set_box(page2, "#budget-box", 0.5, "budget=0.5")  # another budget in context 2 only
    shown_relief(
        page2,
        fmt(
            solve_json(DEFAULT, "--set", "budget.*.public_budget_usd_bn*=0.5", "--exclude", "us_steel_mill")[
                "expected_relief"
            ]
        ),
    )
    page.reload()
    page.wait_for_selector("#expected-relief", timeout=30000)
    assert shown_relief(page, shown) == shown  # context 1 still has its own budget
    assert errors2 == []
    ctx.close()
    ctx2.close()


def test_a_crafted_address_gets_a_message_not_a_crash(server, browser):
    ctx, page, errors = open_page(browser, server + "?p.lapse=1.5", ready="#problem")
    assert "probability of lapse: 1.5 is outside [0, 1]" in page.inner_text("#problem")
    assert errors == []
    ctx.close()


def test_against_a_baseline_names_the_excluded_lever_first(default):
    case, whatif = default
    diff = whatif.against(Settings(), parse_settings(case, "?exclude=us_steel_mill"))
    want = (
        solve_json(DEFAULT, "--exclude", "us_steel_mill")["expected_relief"]
        - whatif.cached(Settings()).figures["expected_relief"]
    )
    assert diff["changes"][0] == ("us_steel_mill", ["dropped"])
    assert diff["difference"] == pytest.approx(want, abs=1e-6)
    assert sum(a["difference"] for a in diff["attribution"]) == pytest.approx(want, abs=1e-6)


def test_pin_and_compare_in_the_page(server, browser):
    ctx, page, errors = open_page(browser, server)
    page.click("#pin")
    choose(page, "#exclude", "us_steel_mill")
    page.wait_for_function(
        "(document.querySelector('#changes li') || {}).innerText === 'us_steel_mill: dropped'", timeout=60000
    )
    assert "Against the baseline" in page.inner_text("#against")
    assert errors == []
    ctx.close()


def test_the_downloaded_workbook_is_the_run_of_the_settings(tiny, tmp_path):
    from relief.cli.serve import workbook_bytes

    case, whatif = tiny
    settings = parse_settings(case, "?capex.chips=2")
    path = tmp_path / "run.xlsx"
    path.write_bytes(workbook_bytes(whatif, settings))
    r = run_in_process("compare", path, path)  # relief reads it back as a run
    assert r.returncode == 0, r.stderr
    want = solve_json(TINY, "--set", "levers.chips.capex_per_module*=2")
    import openpyxl

    rows = {r[0]: r[1] for r in openpyxl.load_workbook(path)["summary"].iter_rows(values_only=True)}
    assert rows["Expected tariff relief, discounted"] == pytest.approx(want["expected_relief"])
    assert workbook_bytes(whatif, parse_settings(case, "?budget=0&force=smelter")) is None  # no plan, no file


def box(kind: str, name: str) -> str:
    """The selector of a pattern-matching number box (Dash writes its id as sorted JSON)."""
    return f"input[id='{json.dumps({'index': name, 'type': kind}, separators=(',', ':'), sort_keys=True)}']"


def test_typing_a_box_back_to_the_case_value_re_solves(server, browser):
    # Dash 4's number input compared the typed value with a stale copy of its value and sent
    # nothing when it was typed back: the page kept the old figures
    from relief.cli.serve import fmt

    # (after the box was set from the address: the value it held at the page's load)
    ctx, page, errors = open_page(browser, server + "?capex.masga_shipyard=3", ready="#problem")
    want = fmt(solve_json(DEFAULT)["expected_relief"])
    capex = box("capex", "masga_shipyard")  # 3: infeasible, the pledged shipyards cost too much
    page.fill(capex, "1")
    page.press(capex, "Enter")
    page.wait_for_function("!location.search.includes('capex')", timeout=60000)
    assert shown_relief(page, want) == want
    # the control's own reset: back to the case's value, the other settings kept
    set_box(page, "#budget-box", SMALL_BUDGET, f"budget={SMALL_BUDGET}")
    small = shown_relief(page, SMALL_RELIEF)
    set_box(page, capex, 3, "capex.masga_shipyard=3")
    page.wait_for_selector("#problem", timeout=60000)
    page.click(
        "button[id='"
        + json.dumps({"index": "capex.masga_shipyard", "type": "reset"}, separators=(",", ":"), sort_keys=True)
        + "']"
    )
    page.wait_for_function("!location.search.includes('capex')", timeout=60000)
    assert page.input_value(capex) == "1" and f"budget={SMALL_BUDGET}" in page.url
    assert shown_relief(page, small) == small
    assert errors == []
    ctx.close()


def test_save_run_and_the_report_from_the_page(server, browser, runs_dir):
    from relief.cli.format import amount

    ctx, page, errors = open_page(browser, server + "?budget=0.5")
    page.click("#save-run")
    page.wait_for_selector("#saved-path", timeout=60000)
    folder = Path(page.inner_text("#saved-path"))
    assert folder.parent == runs_dir and folder.name.startswith("serve-")
    want = solve_json(DEFAULT, "--set", "budget.*.public_budget_usd_bn*=0.5")
    saved = json.loads((folder / "summary.json").read_text())
    assert saved["expected_relief"] == pytest.approx(want["expected_relief"], abs=1e-9)
    assert saved["overrides"] == want["overrides"]
    with page.expect_download(timeout=60000) as dl:
        page.click("#report")
    html = Path(dl.value.path()).read_text()
    assert f"USD {amount(want['expected_relief'])}bn" in html
    assert errors == []
    ctx.close()


# --- the controls of the second slice: each equals relief solve with the same flags ------------

ENVELOPES = ROOT / "examples" / "two-envelopes"
ADAPTIVE = ROOT / "examples" / "adaptive"


@pytest.mark.parametrize(
    ("case_dir", "query", "args", "base_relief"),
    [
        # one envelope's yearly budgets: the cash envelope doubled buys a chip module a year
        # instead of the smelter, relief 1.4 -> 2.2
        (ENVELOPES, "?budget.cash=2", ["--set", "budget.cash:*.public_budget_usd_bn*=2"], 1.4),
        # one year's budgets (every envelope of 2026): 2026's cash x3 buys both chip modules at once
        (ENVELOPES, "?budget.2026=3", ["--set", "budget.*:2026.public_budget_usd_bn*=3"], 1.4),
        # the total public budget: 2 of tiny's 5 buys one chip module only (relief 2.2 -> 1.4)
        (TINY, "?total=2", ["--set", "case.total_public_budget=2"], 2.2),
        # the tier margin: 20% above each threshold is out of tiny's reach for one of its tiers
        (TINY, "?margin=0.2", ["--margin", "20%"], 2.2),
        # the reveal year: knowing the stance from the first year doubles examples/adaptive's relief
        (ADAPTIVE, "?reveal=2026", ["--reveal", "2026"], 15.0),
    ],
)
def test_each_new_control_equals_relief_solve(case_dir, query, args, base_relief):
    case = load_case(case_dir)
    whatif = WhatIf(case)
    assert whatif.answer(Settings()).figures["expected_relief"] == pytest.approx(base_relief, abs=1e-9)
    ans = whatif.answer(parse_settings(case, query))
    want = solve_json(case_dir, *args)
    assert ans.ok, ans.message
    assert ans.figures["expected_relief"] == pytest.approx(want["expected_relief"], abs=1e-9)
    assert ans.figures["expected_relief"] != pytest.approx(base_relief, abs=1e-6)  # the control moved something
    assert ans.figures["public_spend"] == pytest.approx(want["public_spend"], abs=1e-9)
    assert ans.figures["by_scenario"] == pytest.approx(want["by_scenario"], abs=1e-9)
    assert ans.result.report()["portfolio_by_scenario"] == want["portfolio_by_scenario"]
    assert ans.overrides == want["overrides"]


def test_one_year_of_the_default_case_budget(default):
    # the default case's budget.csv is keyed by envelope and year: one year is budget.*:YEAR
    case, whatif = default
    ans = whatif.answer(parse_settings(case, "?budget.2026=0"))
    want = solve_json(DEFAULT, "--set", "budget.*:2026.public_budget_usd_bn*=0")
    assert ans.overrides == ["budget.*:2026.public_budget_usd_bn*=0"]
    assert ans.figures["public_spend"] == pytest.approx(want["public_spend"], abs=1e-9)
    assert ans.figures["schedule"] == {l: {y: float(m) for y, m in ys.items()} for l, ys in want["schedule"].items()}
    assert not any(
        r["year"] == 2026 and r["public_spend"] > 1e-9 and r["envelope"] == "public" for r in ans.figures["spending"]
    )


def test_none_reveals_nothing_on_a_case_that_reveals():
    case = load_case(ADAPTIVE).replaced(meta={**load_case(ADAPTIVE).meta, "reveal_year": 2026})
    s = parse_settings(case, "?reveal=none")
    assert s.overrides(case) == ["case.reveal_year=2029"]  # after the horizon: one roadmap for all
    assert parse_settings(load_case(ADAPTIVE), "?reveal=none") == Settings()  # the case's own


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?budget.2099=0.5", "no budget year or envelope '2099'"),
        ("?budget.cash=7", "budget scale of cash: 7 is outside [0, 3]"),
        ("?budget.cash=0.5&budget.2026=0.5", "one budget year or envelope at a time"),
        ("?total=-1", "total public budget: -1 is outside"),
        ("?total=many", "total public budget: 'many' is not a number"),
        ("?margin=1.5", "tier margin: 1.5 is outside [0, 0.99]"),
        ("?reveal=1999", "reveal year: 1999 is outside the horizon 2026-2027"),
        ("?reveal=soon", "reveal year: 'soon' is not a year"),
    ],
)
def test_bad_new_settings_give_a_message(query, message):
    with pytest.raises(SettingsError) as e:
        parse_settings(load_case(ENVELOPES), query)
    assert message in str(e.value)


def test_a_control_resets_alone():
    from relief.cli.serve import reset_one

    q = {"budget": 0.5, "budget.2026": 2, "capex.chips": 2, "force": ["lng"], "margin": 0.1}
    reset_one(q, "part")
    reset_one(q, "capex.chips")
    assert q == {"budget": 0.5, "force": ["lng"], "margin": 0.1}


# --- one browser session's solves: a newer request supersedes, Cancel stops ----------------------


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    """A synthetic case HiGHS does not prove optimal in 30 s (tests/test_limits.py)."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic import Size, generate, write_case

    folder = write_case(
        tmp_path_factory.mktemp("hard") / "hard",
        *generate(Size(levers=20, scenarios=8, years=10, tracks=6, tiers=5), 0),
    )
    case = load_case(folder)
    return folder, case, WhatIf(case)


def solving_in_background(whatif, sid, settings):
    import threading

    out: dict = {}
    t = threading.Thread(target=lambda: out.setdefault("answer", whatif.request(sid, settings)), daemon=True)
    t.start()
    deadline = time.monotonic() + 60
    while not whatif.lock.locked() and time.monotonic() < deadline:  # its solve has begun
        time.sleep(0.01)
    time.sleep(0.5)  # into HiGHS (the model is built under the lock too: either is interrupted)
    return t, out


def test_a_newer_request_of_the_same_page_supersedes_the_slow_one(hard):
    folder, case, whatif = hard
    started = time.monotonic()
    t, older = solving_in_background(whatif, "tab-1", Settings())
    newer = whatif.request("tab-1", parse_settings(case, "?budget=0"))  # no money: solved at once
    t.join(60)
    assert older["answer"].status == "superseded" and older["answer"].figures == {}
    assert time.monotonic() - started < 25  # the slow solve was interrupted, not waited for
    assert Settings() not in whatif._answers  # a dropped answer is not remembered
    want = solve_json(folder, *[a for o in newer.overrides for a in ("--set", o)])
    assert newer.ok and want["status"] == "optimal"
    assert newer.figures["expected_relief"] == pytest.approx(want["expected_relief"], abs=1e-9)
    assert newer.figures["public_spend"] == pytest.approx(want["public_spend"], abs=1e-9)


def test_cancel_stops_only_this_page_s_solve(hard):
    _, _, whatif = hard
    started = time.monotonic()
    t, running = solving_in_background(whatif, "tab-2", Settings())
    assert whatif.cancel("tab-3") is False  # another page has nothing running: nothing stopped
    assert whatif.cancel("tab-2") is True
    t.join(60)
    assert running["answer"].status == "cancelled" and running["answer"].figures == {}
    assert time.monotonic() - started < 25
    assert whatif.cancel("tab-2") is False  # done
    # the next solve on the same engine runs (HiGHS kept the stop flag between runs: it stopped at once)
    t, again = solving_in_background(whatif, "tab-2", Settings())
    time.sleep(1.5)
    assert "answer" not in again and whatif.cancel("tab-2") is True
    t.join(60)
    assert again["answer"].status == "cancelled"


# --- save: a run folder chosen by the server, the HTML report ------------------------------------


def test_save_run_writes_what_relief_solve_out_writes(tiny, tmp_path):
    from relief.cli.serve import write_run_folder

    case, whatif = tiny
    settings = parse_settings(case, "?capex.chips=2&margin=0.2")
    folder = write_run_folder(whatif, settings, tmp_path / "runs")
    assert folder.parent == tmp_path / "runs" and folder.name.startswith("serve-")
    saved = json.loads((folder / "summary.json").read_text())
    r = run_in_process(
        "solve", TINY, "--set", "levers.chips.capex_per_module*=2", "--margin", "20%", "--out", tmp_path / "cli"
    )
    assert r.returncode == 0, r.stderr
    want = json.loads((tmp_path / "cli" / "summary.json").read_text())
    for key in ("status", "expected_relief", "public_spend", "by_scenario", "portfolio", "overrides", "tier_margins"):
        assert saved[key] == want[key], key
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert (folder / "roadmap.csv").read_text() == (tmp_path / "cli" / "roadmap.csv").read_text()
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name.startswith(".")]  # no temporary left
    assert write_run_folder(whatif, parse_settings(case, "?budget=0&force=smelter"), tmp_path / "runs") is None


def test_the_html_report_shows_the_settings_relief(tiny):
    from relief.cli.format import amount
    from relief.cli.serve import report_html

    case, whatif = tiny
    settings = parse_settings(case, "?total=2")
    html = report_html(whatif, settings)
    want = solve_json(TINY, "--set", "case.total_public_budget=2")["expected_relief"]
    assert want == pytest.approx(1.4)
    assert f"USD {amount(want)}bn" in html and "total=2" in html
    assert "<script" not in html


# --- views: build and operate phases, relief by stance and track ---------------------------------


def test_phases_follow_the_roadmap_relief_solve_writes(default, tmp_path):
    import csv

    case, whatif = default
    ph = whatif.answer(Settings()).figures["phases"]
    r = run_in_process("solve", "--out", tmp_path / "run")
    assert r.returncode == 0, r.stderr
    want: dict = {}
    for row in csv.DictReader((tmp_path / "run" / "roadmap.csv").open()):
        cum, op = float(row["cumulative"]), float(row["operating"])
        if cum > 1e-9:
            w = want.setdefault(row["lever"], {"build": [], "operate": []})
            (w["build"].append(int(row["year"])) if cum - op > 1e-9 else None)
            (w["operate"].append(int(row["year"])) if op > 1e-9 else None)
    assert ph == want
    # by hand: the smelter (lead time 3, committed in its earliest year 2026) builds 2026-2028, operates from 2029
    assert ph["korea_zinc_smelter"] == {"build": [2026, 2027, 2028], "operate": [2029, 2030, 2031, 2032, 2033]}


def test_relief_by_track_adds_up_to_each_stance(tiny):
    case, whatif = tiny
    f = whatif.answer(Settings()).figures
    want = solve_json(TINY)["by_scenario"]
    for s, v in want.items():
        assert sum(r["relief"] for r in f["by_track"] if r["scenario"] == s) == pytest.approx(v, abs=1e-9)
    # by hand (examples/tiny/README.md, "two chip modules"): deal: general t1 both years 2.0 and
    # semis s1 in 2027 1.0; hard: semis s1 in 2027 1.0
    assert {(r["scenario"], r["track"]): r["relief"] for r in f["by_track"]} == pytest.approx(
        {("deal", "general"): 2.0, ("deal", "semis"): 1.0, ("hard", "general"): 0.0, ("hard", "semis"): 1.0}
    )


@pytest.fixture(scope="module")
def hard_server(hard, tmp_path_factory):
    port = free_port()
    proc, _ = start(hard[0], "--port", port, "--runs-dir", tmp_path_factory.mktemp("hard-runs"))
    yield f"http://127.0.0.1:{port}/"
    stop(proc)


def test_cancel_and_a_newer_move_in_the_page(hard, hard_server, browser):
    # on the synthetic case that HiGHS does not prove optimal in 30 s: no money solves at once
    folder, case, _ = hard
    ctx, page, errors = open_page(browser, hard_server + "?budget=0")
    nothing = page.inner_text("#expected-relief")
    loading = "document.querySelector('[data-dash-is-loading=\\'true\\']') !== null"
    page.fill("#budget-box", "1")
    page.press("#budget-box", "Enter")
    page.wait_for_function(loading, timeout=60000)  # the slow solve runs
    started = time.monotonic()
    page.click("#cancel")
    page.wait_for_function("(document.querySelector('#problem') || {}).innerText?.includes('Cancelled')", timeout=60000)
    assert time.monotonic() - started < 25
    assert page.url.endswith("?budget=0") and page.input_value("#budget-box") == "0"  # the settings before
    assert page.inner_text("#expected-relief") == nothing  # the figures before
    # a newer move supersedes the slow one: its answer comes without waiting for the older
    page.fill("#budget-box", "1")
    page.press("#budget-box", "Enter")
    page.wait_for_function(loading, timeout=60000)
    started = time.monotonic()
    set_box(page, "#budget-box", 0.001, "budget=0.001")
    want = solve_json(folder, "--set", "budget.*.public_budget_usd_bn*=0.001")
    from relief.cli.serve import fmt

    assert shown_relief(page, fmt(want["expected_relief"])) == fmt(want["expected_relief"])
    assert time.monotonic() - started < 25
    assert errors == []
    ctx.close()
