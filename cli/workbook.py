"""A run as one workbook (`relief solve --out run.xlsx`), and read back (`relief compare`,
`relief report`).

The sheets, in order (docs/outputs.md):

- for people: `summary` (field, value, unit: one fact a row, nested records flattened),
  `roadmap` (modules committed, lever x year), `relief by stance` (scenario, probability,
  relief, relief by track), `tiers` (the tier reached with its margin), `spending`
  (public spending against the budget, the headroom);
- the run's tables as in a run folder: `relief`, `roadmap data` (the columns of relief.csv
  and roadmap.csv);
- the case as solved (overrides applied), with its sources and notes: `in_case`,
  `in_levers`, ... (`relief solve run.xlsx` solves it again; model/core/read.py);
- `summary_json` (hidden): summary.json line by line, what `relief compare` reads back.

Numbers keep their full precision; number formats show them rounded ('0.00' for USD bn,
'0.0%' for rates and margins). Headers are bold and frozen, columns sized, every sheet
prints landscape, one page wide. The file is written atomically and, for the same inputs,
byte for byte the same (no clock in it) except where summary.json differs (solve_seconds).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from relief.model.analyses.compare import Run

USD = "#,##0.00"
PCT = "0.0%"
RATE = "0.0#%"
SCORE = "0.00"
YEAR = "0"
WHOLE, PART = "0;-0;;@", "0.00;-0.00;;@"  # modules: '2', '4.88', a zero left blank

HIDDEN = ("summary_json",)
RUN_SHEETS = ("summary_json", "roadmap data", "relief", "spending")  # what reading a run back needs
# the columns a comparison or a report reads of a run's tables (a run folder's CSVs, a run workbook's sheets)
RUN_COLUMNS = {
    "roadmap": ("lever", "year", "committed", "operating"),
    "relief": ("scenario", "track", "year", "discounted_relief"),
    "spending": ("year", "public_spend", "budget"),
}


def check_run_columns(tables: dict, where: str) -> None:
    """Raise ValueError naming the first table (`where` formatted with its name) that lacks a
    column of RUN_COLUMNS."""
    for name, cols in RUN_COLUMNS.items():
        lacking = [c for c in cols if c not in tables[name].columns]
        if lacking:
            raise ValueError(f"{where.format(name=name)} lacks column(s) {', '.join(lacking)}")


TIER_COLUMNS = (  # people first: the margin beside the threshold
    "scenario",
    "track",
    "year",
    "tier",
    "score",
    "threshold",
    "margin",
    "margin_rel",
    "thin",
    "rate_changes",
    "relief",
    "base_tier",
    "next_tier",
    "next_threshold",
    "required_score",
)

# number format by column name, for the tables relief writes (the same columns as the CSVs)
COLUMN_FORMATS = {
    "year": YEAR,
    "committed": "modules",
    "cumulative": "modules",
    "operating": "modules",
    "capex_spend": USD,
    "public_spend": USD,
    "budget": USD,
    "headroom": USD,
    "used": PCT,
    "score": SCORE,
    "threshold": SCORE,
    "next_threshold": SCORE,
    "required_score": SCORE,
    "margin": SCORE,
    "margin_rel": PCT,
    "relief": USD,
    "discounted_relief": USD,
    "base_rate": RATE,
    "rate": RATE,
    "exports": USD,
    "duty_paid": USD,
    "duty_no_delivery": USD,
    "duty_current": USD,
    "probability": PCT,
    "commitment_credit": PCT,
    "credit for pledges": PCT,
}

# summary.json's fields: label and unit; `{}` takes the key of a nested record
SUMMARY_LABELS = {
    "status": ("Solver status", ""),
    "expected_relief": ("Expected tariff relief, discounted", "USD bn"),
    "public_spend": ("Public spending, all years", "USD bn"),
    "discounted_public_spend": ("Public spending, discounted", "USD bn"),
    "total_spend": ("Capex, public and private", "USD bn"),
    "objective_bound": ("No plan gives more relief than", "USD bn"),
    "mip_gap": ("Optimality gap", "%"),
    "solve_seconds": ("Solve time", "s"),
    "case": ("Case", ""),
    "case_path": ("Case solved (folder or workbook)", ""),
    "input_sha256": ("Fingerprint of the inputs (SHA-256)", ""),
    "solver.name": ("Solver", ""),
    "solver.version": ("Solver version", ""),
    "overrides": ("Change to the case (--set)", ""),
    "force": ("Lever forced in (--force)", ""),
    "exclude": ("Lever left out (--exclude)", ""),
    "by_scenario": ("Relief if {} comes true, discounted", "USD bn"),
    "portfolio": ("Modules committed: {}", "modules"),
    "spend_stage_status": ("Status of the least-spending stage", ""),
    "options.time_limit": ("Solver setting: time limit", "s"),
    "options.mip_gap": ("Solver setting: relative gap", "%"),
    "options.threads": ("Solver setting: threads", ""),
    "options.seed": ("Solver setting: random seed", ""),
    "warnings": ("Warning", ""),
    "conflicts": ("Conflict", ""),
    "conflicts_found_by": ("Conflicts found by", ""),
    "risk.measure": ("Risk measure", ""),
    "risk.label": ("Risk measure, in words", ""),
    "risk.value": ("Value of the risk measure", "USD bn"),
    "relief_distribution.expected": ("Relief across stances: expected", "USD bn"),
    "relief_distribution.worst": ("Relief across stances: worst", "USD bn"),
    "relief_distribution.worst_scenario": ("Relief across stances: worst stance", ""),
    "relief_distribution.best": ("Relief across stances: best", "USD bn"),
    "relief_distribution.best_scenario": ("Relief across stances: best stance", ""),
    "relief_distribution.std": ("Relief across stances: standard deviation", "USD bn"),
}
SUMMARY_LABELS |= {
    "expected_relief_vs_current": ("Expected relief against current rates, discounted (can be negative)", "USD bn"),
    "expected_duty_paid": ("Expected duty paid under the plan, discounted", "USD bn"),
    "expected_duty_no_delivery": ("Expected duty under no delivery, discounted", "USD bn"),
    "expected_duty_current": ("Expected duty at current rates, discounted", "USD bn"),
    "as_of": ("Current rates as of", ""),
    "margin_tolerance": ("A tier is flagged thin below this margin", "%"),
    "thin_tiers": ("Tiers reached with a thin margin (see the tiers sheet)", ""),
}
SUMMARY_LABELS |= {
    "without_obligations": ("Obligations dropped (--without-obligations)", ""),
    "obligations": ("Obligation (obligations.csv) and what the plan commits by its year", ""),
}
SUMMARY_LABELS |= {
    "public_spend_by_scenario": ("Public spending if {} comes true (adaptive roadmap)", "USD bn"),
    "reveal.reveal_year": ("Each stance has its own roadmap from (reveal_year)", ""),
    "reveal.information_years": ("Partial revelation from (information.csv)", ""),
    "reveal.static": ("One roadmap for every stance (no reveal)", ""),
    "reveal.first_moves_years": ("First moves: the years every stance shares", ""),
}
EMPTY = {"by_scenario": "Relief by stance", "portfolio": "Modules committed"}  # an empty record (no plan)
SHOWN_ELSEWHERE = {
    "schedule": "the roadmap sheet",
    "portfolio_by_scenario": "the roadmap sheet",
    "schedule_by_scenario": "the roadmap sheet (one row per stance and lever)",
    "reveal.from": "the roadmap sheet (one row per stance and lever)",
    "reveal.branches": "the roadmap sheet (one row per stance and lever)",
    "tier_margins": "the tiers sheet",
    "duty_by_scenario": "the duty sheet (and its sums in the report)",
}
ABOUT = (
    ("roadmap", "modules committed, by lever and year (a blank is none)"),
    ("relief by stance", "discounted relief if each U.S. stance comes true, by track, and the expectation"),
    ("tiers", "the tier reached on each track, its score against the threshold and the margin"),
    ("spending", "public spending against each year's budget, and the headroom left"),
    ("envelope spending", "with several funding envelopes: each envelope's spending against its yearly budget"),
    ("relief", "relief by stance, track, sector and year (relief.csv of a run folder)"),
    ("roadmap data", "the roadmap as a table (roadmap.csv of a run folder)"),
    ("duty", "duty paid, under no delivery and at current rates, by stance, year and sector, undiscounted (duty.csv)"),
    ("in_case, in_...", "the case as solved, with its sources and notes; `relief solve` reads them again"),
)


# ---------------------------------------------------------------- writing


def write_run_workbook(path: Path, result, summary: dict) -> None:
    """`relief solve --out run.xlsx`: the sheets above, written atomically."""
    import io
    import json

    from openpyxl import Workbook

    from relief.model.core.io import atomic_file, case_sheets
    from relief.model.core.read import RUN_SHEET_PREFIX

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "relief"
    case, ev = result.case, result.evaluation
    rows = summary_rows(summary, None if ev is not None else ("in_case",))
    _sheet(wb, "summary", ["field", "value", "unit"], rows, _summary_formats, widths=(None, 40, 9), cap=60)
    if ev is not None:
        _frame(wb, "roadmap", roadmap_grid(ev.roadmap, case), _grid_formats, freeze=_grid_freeze(case, ev.roadmap))
        _frame(wb, "relief by stance", relief_by_stance(ev, case), _by_column, freeze="B2")
        _frame(wb, "tiers", _tiers(ev.tiers), _by_column, freeze="D2", mark="thin")
        _frame(wb, "spending", spending_table(ev.spending), _by_column, freeze="B2")
        if ev.envelope_spending["envelope"].nunique() > 1:  # several funding envelopes: each against its budgets
            _frame(wb, "envelope spending", spending_table(ev.envelope_spending), _by_column, freeze="C2")
        _frame(wb, "relief", ev.relief, _by_column, freeze="E2")
        _frame(wb, "roadmap data", ev.roadmap, _by_column, freeze="C2")
        if len(ev.duty):
            _frame(wb, "duty", ev.duty, _by_column, freeze="E2")
    for name, df in case_sheets(case).items():
        _frame(wb, RUN_SHEET_PREFIX + name, df, lambda col, v: "General", freeze="B2", cap=45)
    lines = json.dumps(summary, indent=2, default=float).splitlines()
    _sheet(wb, "summary_json", ["summary.json"], [[line] for line in lines], lambda c, v: "General", widths=(80,))
    for name in HIDDEN:
        wb[name].sheet_state = "hidden"
    buf = io.BytesIO()
    _save(wb, buf)
    with atomic_file(Path(path), binary=True) as f:
        f.write(_without_clock(buf.getvalue()))


def summary_rows(summary: dict, sheets=None) -> list[list]:
    """summary.json as [label, value, unit] rows: one fact a row (the headline figures
    first), records flattened, lists one item a row ('none' if empty, '-' for a figure
    without a plan); never a Python repr. Last, what each of `sheets` holds."""
    known = [k for k in dict.fromkeys(k.split(".")[0] for k in SUMMARY_LABELS) if k in summary]
    adaptive = not (summary.get("reveal") or {}).get("static", True)
    rows = []
    for key in known + [k for k in summary if k not in known]:
        if key in SHOWN_ELSEWHERE:
            rows.append([_label((key,))[0], f"see {SHOWN_ELSEWHERE[key]}", ""])
            continue
        if key == "reveal" and isinstance(summary[key], dict):
            for k, v in summary[key].items():
                full = f"reveal.{k}"
                rows += (
                    [[_label(("reveal", k))[0], f"see {SHOWN_ELSEWHERE[full]}", ""]]
                    if full in SHOWN_ELSEWHERE
                    else _flatten(("reveal", k), v)
                )
            continue
        if key == "portfolio" and adaptive:  # an adaptive run's portfolio is its first moves
            rows += [[f"First move (every stance): {l}", _scalar(v), "modules"] for l, v in summary[key].items()]
            continue
        rows += _flatten((key,), summary[key])
    rows.append(["", "", ""])
    rows += [[f"Sheet: {sheet}", text, ""] for sheet, text in ABOUT if sheets is None or sheet.split(",")[0] in sheets]
    return rows


def _flatten(path: tuple, value) -> list[list]:
    label, unit = _label(path)
    if isinstance(value, dict):
        if not value:
            return [[EMPTY.get(".".join(path), label.replace("{}", "each")), "none", ""]]
        return [row for k, v in value.items() for row in _flatten((*path, str(k)), v)]
    if isinstance(value, (list, tuple)):
        if not value:
            return [[label, "none", ""]]
        return [[label, _scalar(v), unit] for v in value]
    return [[label, "-" if value is None else _scalar(value), unit]]


def _label(path: tuple) -> tuple[str, str]:
    """The label and unit of a field of summary.json (a path of keys)."""
    key = ".".join(path)
    if key in SUMMARY_LABELS:
        return SUMMARY_LABELS[key]
    parent = ".".join(path[:-1])
    if parent in SUMMARY_LABELS and "{}" in SUMMARY_LABELS[parent][0]:
        text, unit = SUMMARY_LABELS[parent]
        return text.format(path[-1]), unit
    if parent == "relief_distribution" and path[-1].startswith("cvar_"):
        try:
            share = f"{1 - float(path[-1][5:]):.0%}"
        except ValueError:
            share = path[-1][5:]
        return f"Relief across stances: mean of the worst {share} (CVaR)", "USD bn"
    words = [part.replace("_", " ") for part in path]
    return words[0][:1].upper() + words[0][1:] + "".join(f": {w}" for w in words[1:]), ""


def _scalar(v):
    """A cell's value: numbers and text as they are, a record as its `text` (a conflict's
    sentence) or as 'key: value; ...'."""
    if isinstance(v, dict) and isinstance(v.get("text"), str):
        return v["text"]
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_scalar(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return "; ".join(str(_scalar(x)) for x in v)
    if v is None:
        return ""
    return v


def roadmap_grid(roadmap: pd.DataFrame, case) -> pd.DataFrame:
    """Modules committed, one row per lever (and stance, in an adaptive run), one column
    per year, then the total; the lever's display name beside it where the case has one."""
    keys = [c for c in ("scenario", "lever") if c in roadmap.columns]
    grid = roadmap.pivot_table(index=keys, columns="year", values="committed", aggfunc="sum", sort=False)
    grid.columns = [str(int(y)) for y in grid.columns]
    grid["total"] = grid.sum(axis=1)
    grid = grid.reset_index()
    names = _names(case.table("levers"), "lever")
    if names:
        grid.insert(len(keys), "name", [names.get(str(lv), "") for lv in grid["lever"]])
    return grid


def relief_by_stance(ev, case) -> pd.DataFrame:
    """Scenario, probability, credit for pledges, discounted relief if it comes true and
    the same by track (USD bn); a last row 'expected' weighs them by probability."""
    import pandas as pd

    sc = case.table("scenarios")
    by_track = ev.relief.pivot_table(
        index="scenario", columns="track", values="discounted_relief", aggfunc="sum", sort=False
    )
    names = _names(sc, "scenario")
    rows = []
    for r in sc.itertuples():
        s = str(r.scenario)
        row = {"scenario": s}
        if names:
            row["name"] = names.get(s, "")
        row |= {
            "probability": float(r.probability),
            "credit for pledges": float(r.commitment_credit),
            "relief, USD bn": float(ev.by_scenario.get(s, math.nan)),
        }
        for track in by_track.columns:
            row[f"{track}, USD bn"] = float(by_track.at[s, track]) if s in by_track.index else 0.0
        rows.append(row)
    df = pd.DataFrame(rows)
    expected = {"scenario": "expected", "probability": float(df["probability"].sum())}
    for col in [c for c in df.columns if c.endswith("USD bn")]:
        expected[col] = float((df[col] * df["probability"]).sum())
    return pd.concat([df, pd.DataFrame([expected])], ignore_index=True)


def spending_table(spending: pd.DataFrame) -> pd.DataFrame:
    """spending.csv's columns with the headroom (budget - spend) and the share used after the budget."""
    df = spending.copy()
    at = list(df.columns).index("budget") + 1 if "budget" in df.columns else len(df.columns)
    if "budget" in df.columns:
        headroom = [
            0.0 if abs(b - s) <= 1e-6 * max(1.0, abs(b)) else b - s for s, b in zip(df["public_spend"], df["budget"])
        ]
        df.insert(at, "headroom", headroom)  # within the solver's tolerance of the budget: none left
        df.insert(
            at + 1, "used", [s / b if b and b > 0 else math.nan for s, b in zip(df["public_spend"], df["budget"])]
        )
    return df


def _tiers(tiers: pd.DataFrame) -> pd.DataFrame:
    """The evaluation's tiers: the columns of tiers.csv, the margin of the tier reached
    beside its threshold (where the evaluation has margins), any other column last."""
    cols = [c for c in TIER_COLUMNS if c in tiers.columns]
    return tiers[cols + [c for c in tiers.columns if c not in cols and not c.startswith("_")]]


def _names(df: pd.DataFrame, key: str) -> dict[str, str]:
    if "name" not in df.columns:
        return {}
    return {str(k): str(n) for k, n in zip(df[key], df["name"]) if isinstance(n, str) and n.strip()}


# ---------------------------------------------------------------- formats and layout


BOOL = '"TRUE";"TRUE";"FALSE"'  # LibreOffice shows a true/false cell as 1/0 under General


def _by_column(col: str, v) -> str:
    if isinstance(v, bool):
        return BOOL
    fmt = COLUMN_FORMATS.get(col)
    if fmt is None and col.endswith("USD bn"):
        fmt = USD
    if fmt == "modules":
        return _modules(v)
    return fmt or ("0.00" if isinstance(v, float) else "General")


def _grid_formats(col: str, v) -> str:
    return _modules(v) if isinstance(v, float) else "General"


def _summary_formats(col: str, v, unit: str = "") -> str:
    if col != "value" or not isinstance(v, (int, float)) or isinstance(v, bool):
        return "General"
    modules = "0" if float(v).is_integer() else "0.00"
    return {"USD bn": USD, "%": "0.00%", "modules": modules, "s": "0.00"}.get(unit, "General")


def _modules(v) -> str:
    return WHOLE if isinstance(v, (int, float)) and math.isfinite(v) and float(v).is_integer() else PART


def _grid_freeze(case, roadmap) -> str:
    n = 1 + ("scenario" in roadmap.columns) + bool(_names(case.table("levers"), "lever"))
    return f"{chr(ord('A') + n)}2"


def _frame(wb, name: str, df: pd.DataFrame, fmt, freeze: str = "A2", cap: int = 40, mark=None) -> None:
    cols = [c for c in df.columns if c != "_row"]
    rows = [list(r) for r in df[cols].itertuples(index=False)]
    _sheet(wb, name, [str(c) for c in cols], rows, fmt, freeze=freeze, cap=cap, mark=mark)


def _sheet(wb, name, header, rows, fmt, freeze="A2", widths=None, cap=40, mark=None) -> None:
    """One sheet: a bold, frozen header row (numbers' headers right-aligned); each cell with
    its number format; columns as wide as their longest text (up to `cap`: longer text
    wraps, and its row is made tall enough); landscape, one page wide, the header on every
    printed page. Rows whose `mark` column is true (a thin tier) are shaded amber."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name[:31])
    ws.append(header)
    longest = [len(h) for h in header]
    numeric = [True] * len(header)
    cells = []
    for r, row in enumerate(rows, start=2):
        unit = row[2] if name == "summary" and len(row) > 2 else ""
        for c, v in enumerate(row, start=1):
            v = _cell(v)
            cell = ws.cell(row=r, column=c, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # text starting with '=' stays text, never a formula
                numeric[c - 1] = False
            col = header[c - 1]
            cell.number_format = fmt(col, v, unit) if name == "summary" else fmt(col, v)
            shown = len(v) if isinstance(v, str) else len(f"{v:,.2f}") if isinstance(v, float) else len(str(v))
            longest[c - 1] = max(longest[c - 1], shown)
            cells.append((r, c, v))
    width = [widths[c] if widths and widths[c] else min(max(n, 7) + 4, cap) for c, n in enumerate(longest)]
    for c, w in enumerate(width, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    head = Font(name="Calibri", size=11, bold=True)  # the cells below keep the default, Calibri 11
    fill, line = PatternFill("solid", fgColor="DDE4EE"), Border(bottom=Side(style="thin"))
    for c, cell in enumerate(ws[1]):
        cell.font, cell.fill, cell.border = head, fill, line
        right = numeric[c] and rows
        cell.alignment = Alignment(horizontal="right" if right else "left", vertical="top", indent=0 if right else 1)
    left = dict(horizontal="left", vertical="top", indent=1)
    top, wrap, up, lines = Alignment(**left), Alignment(**left, wrap_text=True), Alignment(vertical="top"), {}
    for r, c, v in cells:
        cell = ws.cell(row=r, column=c)
        cell.alignment = top if isinstance(v, str) else up
        room = width[c - 1] * 1.2 - 1  # text is narrower than the digit a width unit is
        if isinstance(v, str) and len(v) > room:
            cell.alignment = wrap
            lines[r] = max(lines.get(r, 1), math.ceil(len(v) / room))
    for r, row in enumerate(rows, start=2):  # a total row ('expected') bold, under a line
        if row and row[0] == "expected":
            for c in range(1, len(header) + 1):
                ws.cell(row=r, column=c).font = head
                ws.cell(row=r, column=c).border = Border(top=Side(style="thin"))
    if mark in header:
        amber, at = PatternFill("solid", fgColor="FCE4B6"), header.index(mark)
        for r, row in enumerate(rows, start=2):
            if row[at] is True or row[at] == 1:
                for c in range(1, len(header) + 1):
                    ws.cell(row=r, column=c).fill = amber
    for r, n in lines.items():  # LibreOffice and Excel do not grow a row for wrapped text they did not type
        ws.row_dimensions[r].height = 15 * n
    ws.freeze_panes = freeze
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "&A  &P/&N"  # sheet name, page of pages


def _cell(v):
    """A value a cell can hold: numpy numbers as Python's, NaN and None as an empty cell,
    characters Excel refuses dropped."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if hasattr(v, "item"):
        v = v.item()
    if v is None or type(v).__name__ == "NAType" or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if isinstance(v, str):
        return ILLEGAL_CHARACTERS_RE.sub("", v)
    return v


def _save(wb, buf) -> None:
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl.writer.excel import ExcelWriter

    ExcelWriter(wb, ZipFile(buf, "w", ZIP_DEFLATED, allowZip64=True)).save()


def _without_clock(data: bytes) -> bytes:
    """The same zip with every entry dated 1980-01-01 and no created/modified dates in its
    document properties: the write time is not in the file."""
    import io
    import re
    from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

    out = io.BytesIO()
    with ZipFile(io.BytesIO(data)) as src, ZipFile(out, "w", ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>", b"", body)
            dst.writestr(entry, body)
    return out.getvalue()


# ---------------------------------------------------------------- reading back


def is_workbook(path: Path) -> bool:
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")


def load_run_workbook(path: Path) -> Run:
    """A run workbook written by `relief solve --out run.xlsx`, as `relief compare` and
    `relief report` use it; CompareError if it is not one."""
    import json

    from relief.model.analyses.compare import CompareError, Run, lever_tracks
    from relief.model.core.case import CaseError, load_case
    from relief.model.core.read import RUN_SHEET_PREFIX, workbook_sheets

    path = Path(path)
    if not path.is_file():
        raise CompareError(f"{path} is not a run workbook (no such file)")
    try:
        sheets = workbook_sheets(path)
    except CaseError as e:
        raise CompareError(f"{path} is not a readable run workbook: {e.problems[0].message}") from None
    missing = [s for s in RUN_SHEETS if s not in sheets]
    if missing:
        status = _status(sheets.get("summary_json"))
        if status is not None:
            raise CompareError(f"{path} holds no plan (status {status}): there is nothing to report or compare")
        if "case" in sheets:
            raise CompareError(
                f"{path} is a case workbook, not a run: solve it first (relief solve {path} --out run.xlsx), "
                f"or compare it solved on the fly (--case {path})"
            )
        raise CompareError(
            f"{path} is not a run workbook from `relief solve --out run.xlsx` (no sheet {', '.join(missing)})"
        )
    try:
        lines = [str(v) for v in sheets["summary_json"].iloc[:, 0] if isinstance(v, str)]
        summary = json.loads("\n".join(lines))
        tables = {
            name: _typed(sheets[sheet])
            for name, sheet in (("roadmap", "roadmap data"), ("relief", "relief"), ("spending", "spending"))
        }
        scen = _typed(sheets[RUN_SHEET_PREFIX + "scenarios"])
        probability = {str(s): float(p) for s, p in zip(scen["scenario"], scen["probability"])}
        check_run_columns(tables, "sheet {name}")
    except Exception as e:  # unreadable JSON, missing sheets or columns
        raise CompareError(f"{path} is not a readable run workbook: {type(e).__name__}: {e}") from None
    tables["spending"] = tables["spending"].drop(columns=["headroom", "used"], errors="ignore")
    contrib, weights = (sheets.get(RUN_SHEET_PREFIX + t) for t in ("contributions", "pillar_weights"))
    tracks = lever_tracks(None if contrib is None else _typed(contrib), None if weights is None else _typed(weights))
    tiers = _typed(sheets["tiers"]) if "tiers" in sheets else None
    try:
        case = load_case(path)
    except Exception:  # the comparison needs only the tables above; the report says what it lacks
        case = None
    return Run(
        label=path.stem,
        source=str(path),
        summary=summary,
        probability=probability,
        lever_tracks=tracks,
        tiers=tiers,
        case=case,
        **tables,
    )


def _status(sheet) -> str | None:
    """The status in a summary_json sheet, or None."""
    import json

    try:
        return str(json.loads("\n".join(str(v) for v in sheet.iloc[:, 0] if isinstance(v, str)))["status"])
    except Exception:
        return None


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """A sheet read as objects, with numbers as numbers again (as pandas reads a CSV)."""
    import pandas as pd

    df = df.drop(columns=["_row"], errors="ignore").dropna(how="all").reset_index(drop=True)
    out = {}
    for c in df.columns:
        col = df[c]
        if len(col) and col.map(lambda v: isinstance(v, bool)).all():
            out[c] = col.astype(bool)
            continue
        try:
            out[c] = pd.to_numeric(col) if col.map(lambda v: not isinstance(v, str)).all() else col
        except (TypeError, ValueError):
            out[c] = col
    return pd.DataFrame(out)
