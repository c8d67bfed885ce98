"""Write the corpus of damaged cases in tests/damaged/ (issue 5): examples/tiny with one damage each.

Each case is a folder NN-short-name/ holding a copy of examples/tiny (without its
README) with exactly one thing damaged, or a workbook case.xlsx, and an expected.txt:

    damage: what was damaged, in words
    case: the path to give relief, relative to the folder (default: the folder itself)
    exit: the exit code of `relief validate` and `relief solve` (2: bad input)
    file: the file (or workbook [sheet]) the message must name
    expect: a fragment the message must contain (one line each; all must appear)

`ok-` cases are odd but accepted inputs (exit 0): the decisions the corpus documents.
tests/test_damaged.py runs every case through the CLI. Damages that cannot be stored
(a file over the size limit, a link out of the folder, a FIFO, a zip bomb) are made at
test time there. Regenerate after changing examples/tiny:

    python tests/damaged/make_corpus.py
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
TINY = HERE.parents[1] / "examples" / "tiny"
DAMAGES = []


def damage(name, what, file, *expect, exit=2, case=None):
    """Register `fn(folder)` as the damage of case `name`."""

    def register(fn):
        DAMAGES.append(dict(name=name, what=what, file=file, expect=expect, exit=exit, case=case, fn=fn))
        return fn

    return register


# --- small editing helpers --------------------------------------------------------------


def replace(folder: Path, file: str, old: str, new: str) -> None:
    text = (folder / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{file}: {old!r} is not there exactly once"
    (folder / file).write_text(text.replace(old, new), encoding="utf-8")


def rows(folder: Path, file: str) -> list[list[str]]:
    with open(folder / file, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(folder: Path, file: str, table: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    (folder / file).write_text(out.getvalue(), encoding="utf-8")


def set_cell(folder: Path, file: str, row: int, column: str, value: str) -> None:
    """Set the cell at spreadsheet row `row` (the header is row 1)."""
    table = rows(folder, file)
    table[row - 1][table[0].index(column)] = value
    write_rows(folder, file, table)


def workbook(folder: Path) -> Path:
    """examples/tiny as one workbook, as `relief template` writes it."""
    from relief.model.core.case import load_case
    from relief.model.core.io import write_case_workbook

    for p in folder.iterdir():
        p.unlink()
    book = folder / "case.xlsx"
    write_case_workbook(load_case(TINY), book)
    return book


# --- encodings and whole files ----------------------------------------------------------


@damage("01-levers-latin1", "levers.csv saved as latin-1: an accented note in row 3", "levers.csv",
        "levers.csv, row 3", "not UTF-8 text (byte 0xe9)", "save it as CSV UTF-8")
def _(d):
    text = (d / "levers.csv").read_text(encoding="utf-8").replace("chips,2,1.0,0,2026,0,2,2,true,assumption", "chips,2,1.0,0,2026,0,2,2,true,assumption: usine de puces \u00e9")
    (d / "levers.csv").write_bytes(text.encode("latin-1"))


@damage("02-sectors-utf16", "sectors.csv saved as UTF-16 with a byte-order mark (Excel's 'Unicode text')", "sectors.csv",
        "sectors.csv", "UTF-16", "save it as CSV UTF-8")
def _(d):
    (d / "sectors.csv").write_bytes((d / "sectors.csv").read_text(encoding="utf-8").encode("utf-16"))


@damage("03-case-yaml-latin1", "case.yaml saved as latin-1 (an accented word on line 4)", "case.yaml",
        "case.yaml", "line 4", "not UTF-8 text")
def _(d):
    text = (d / "case.yaml").read_text(encoding="utf-8").replace("Two-year toy case", "Deux ann\u00e9es, toy case")
    (d / "case.yaml").write_bytes(text.encode("latin-1"))


@damage("04-budget-empty", "budget.csv is an empty file", "budget.csv", "budget.csv", "empty")
def _(d):
    (d / "budget.csv").write_bytes(b"")


@damage("05-scenarios-header-only", "scenarios.csv has its header and no rows", "scenarios.csv", "scenarios.csv", "no rows")
def _(d):
    write_rows(d, "scenarios.csv", rows(d, "scenarios.csv")[:1])


@damage("06-tiers-missing-column", "tiers.csv has no threshold column", "tiers.csv",
        "tiers.csv, column threshold", "required column is missing")
def _(d):
    table = rows(d, "tiers.csv")
    j = table[0].index("threshold")
    write_rows(d, "tiers.csv", [r[:j] + r[j + 1:] for r in table])


@damage("07-tariffs-missing-file", "tariffs.csv is missing", "tariffs.csv", "tariffs.csv", "file is missing")
def _(d):
    (d / "tariffs.csv").unlink()


@damage("08-levers-binary", "levers.csv holds the bytes of a PNG image", "levers.csv", "levers.csv, row 1", "not UTF-8 text (byte 0x89)")
def _(d):
    (d / "levers.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)))


@damage("09-levers-is-a-folder", "levers.csv is a folder", "levers.csv", "levers.csv", "not a regular file")
def _(d):
    (d / "levers.csv").unlink()
    (d / "levers.csv").mkdir()
    (d / "levers.csv" / "note.txt").write_text("a folder named like a table\n", encoding="utf-8")


# --- cells --------------------------------------------------------------------------------


@damage("10-levers-capex-text", "capex_per_module of chips is the word 'two'", "levers.csv",
        "levers.csv, row 3, column capex_per_module", "'two' is not a number")
def _(d):
    set_cell(d, "levers.csv", 3, "capex_per_module", "two")


@damage("11-levers-capex-nan", "capex_per_module of smelter is NaN", "levers.csv",
        "levers.csv, row 2, column capex_per_module", "not a finite number")
def _(d):
    set_cell(d, "levers.csv", 2, "capex_per_module", "NaN")


@damage("12-sectors-exports-inf", "exports_usd_bn of autos is inf", "sectors.csv",
        "sectors.csv, row 2, column exports_usd_bn", "not a finite number")
def _(d):
    set_cell(d, "sectors.csv", 2, "exports_usd_bn", "inf")


@damage("13-levers-capex-1e308", "capex_per_module of smelter is 1e308", "levers.csv",
        "levers.csv, row 2, column capex_per_module", "too large", "1e9")
def _(d):
    set_cell(d, "levers.csv", 2, "capex_per_module", "1e308")


@damage("14-tariffs-rate-minus-infinity", "rate of deal/general/t1/autos is -Infinity", "tariffs.csv",
        "tariffs.csv, row 3, column rate", "not a finite number")
def _(d):
    set_cell(d, "tariffs.csv", 3, "rate", "-Infinity")


@damage("15-levers-integer-oui", "integer of chips is 'oui'", "levers.csv",
        "levers.csv, row 3, column integer", "'oui' is not true or false")
def _(d):
    set_cell(d, "levers.csv", 3, "integer", "oui")


@damage("16-levers-negative-capex", "capex_per_module of lng is -0.5", "levers.csv",
        "levers.csv, row 4, column capex_per_module", "out of range", ">= 0")
def _(d):
    set_cell(d, "levers.csv", 4, "capex_per_module", "-0.5")


@damage("17-levers-min-above-max", "min_modules of chips (3) is above its max_modules (2)", "levers.csv",
        "levers.csv, row 3, column min_modules", "above max_modules")
def _(d):
    set_cell(d, "levers.csv", 3, "min_modules", "3")


@damage("18-tariffs-rate-percent", "rate of deal/general/t1/autos is written 15%", "tariffs.csv",
        "tariffs.csv, row 3, column rate", "percentage", "0.15")
def _(d):
    set_cell(d, "tariffs.csv", 3, "rate", "15%")


@damage("19-levers-lead-time-fraction", "lead_time_years of smelter is 1.5", "levers.csv",
        "levers.csv, row 2, column lead_time_years", "not a whole number")
def _(d):
    set_cell(d, "levers.csv", 2, "lead_time_years", "1.5")


@damage("20-levers-public-share-above-one", "public_share of chips is 1.5", "levers.csv",
        "levers.csv, row 3, column public_share", "out of range", "<= 1")
def _(d):
    set_cell(d, "levers.csv", 3, "public_share", "1.5")


@damage("21-sectors-growth-minus-one", "growth_rate of autos is -1 (exports would vanish)", "sectors.csv",
        "sectors.csv, row 2, column growth_rate", "must be > -1")
def _(d):
    set_cell(d, "sectors.csv", 2, "growth_rate", "-1")


@damage("22-sectors-blank-exports", "exports_usd_bn of autos is blank", "sectors.csv",
        "sectors.csv, row 2, column exports_usd_bn", "value is missing")
def _(d):
    set_cell(d, "sectors.csv", 2, "exports_usd_bn", "")


@damage("23-levers-decimal-comma", "capex_per_module of lng is written 0,5 (a decimal comma)", "levers.csv",
        "levers.csv, row 4, column capex_per_module", "'0,5' is not a number")
def _(d):
    set_cell(d, "levers.csv", 4, "capex_per_module", "0,5")


@damage("24-levers-name-with-colon", "lever chips is renamed chips:fab (':' is a parameter-path separator)", "levers.csv",
        "levers.csv, row 3, column lever", "may not contain ':'")
def _(d):
    set_cell(d, "levers.csv", 3, "lever", "chips:fab")


# --- keys and references ------------------------------------------------------------------


@damage("25-levers-duplicated-key", "a second row for lever chips (row 5)", "levers.csv",
        "levers.csv, row 5, column lever", "'chips' appears more than once")
def _(d):
    table = rows(d, "levers.csv")
    write_rows(d, "levers.csv", table + [table[2]])


@damage("26-tariffs-duplicated-key", "row 3 of tariffs.csv repeated as row 10", "tariffs.csv",
        "tariffs.csv, row 10, column sector", "appears more than once")
def _(d):
    table = rows(d, "tariffs.csv")
    write_rows(d, "tariffs.csv", table + [table[2]])


@damage("27-contributions-unknown-lever", "contributions.csv names lever 'chip', which levers.csv does not have", "contributions.csv",
        "contributions.csv, row 3, column lever", "unknown lever 'chip'")
def _(d):
    set_cell(d, "contributions.csv", 3, "lever", "chip")


@damage("28-pillar-weights-unknown-scenario", "pillar_weights.csv names scenario 'harsh'", "pillar_weights.csv",
        "pillar_weights.csv, row 6, column scenario", "unknown scenario 'harsh'")
def _(d):
    set_cell(d, "pillar_weights.csv", 6, "scenario", "harsh")


@damage("29-contributions-lookalike-lever", "contributions.csv names 'ch\u0456ps' with a Cyrillic \u0456 (looks like chips)",
        "contributions.csv", "contributions.csv, row 3, column lever", "unknown lever 'ch\u0456ps'")
def _(d):
    set_cell(d, "contributions.csv", 3, "lever", "ch\u0456ps")


@damage("30-tariffs-tier-not-in-ladder", "tariffs.csv rates tier 't9', which no ladder has", "tariffs.csv",
        "tariffs.csv, row 3, column tier", "'t9' is not in the ladder")
def _(d):
    set_cell(d, "tariffs.csv", 3, "tier", "t9")


@damage("31-relations-unknown-type", "relations.csv says chips 'needs' smelter (requires or excludes only)", "relations.csv",
        "relations.csv, row 2, column relation", "'needs' is not a relation")
def _(d):
    (d / "relations.csv").write_text("lever,relation,other\nchips,needs,smelter\n", encoding="utf-8")


@damage("32-lever-pools-unknown-pool", "lever_pools.csv names pool 'yard', pools.csv has only 'fund'", "lever_pools.csv",
        "lever_pools.csv, row 2, column pool", "unknown pool 'yard'")
def _(d):
    (d / "pools.csv").write_text("pool,limit\nfund,10\n", encoding="utf-8")
    (d / "lever_pools.csv").write_text("lever,pool,use_per_module\nchips,yard,1\n", encoding="utf-8")


# --- rules across tables -------------------------------------------------------------------


@damage("33-scenarios-probabilities-sum", "probability of deal is 0.7, so the two sum to 1.1", "scenarios.csv",
        "scenarios.csv, column probability", "sum to 1.1, not 1")
def _(d):
    set_cell(d, "scenarios.csv", 2, "probability", "0.7")


@damage("34-budget-year-outside-horizon", "budget.csv has 2025 instead of 2026, a year outside the horizon", "budget.csv",
        "budget.csv, column year", "no public budget for year(s) 2026")
def _(d):
    set_cell(d, "budget.csv", 2, "year", "2025")


@damage("35-tiers-no-baseline", "the deal/semis ladder has no tier with threshold 0", "tiers.csv",
        "tiers.csv, column threshold", "'deal', track 'semis'", "no tier with threshold 0")
def _(d):
    set_cell(d, "tiers.csv", 4, "threshold", "3")


@damage("36-tiers-two-baselines", "the deal/general ladder has two tiers with threshold 0", "tiers.csv",
        "tiers.csv, column threshold", "2 tiers with threshold 0")
def _(d):
    set_cell(d, "tiers.csv", 3, "threshold", "0")


@damage("37-tariffs-missing-rate", "tariffs.csv has no rate for chip_exports at tier s1 in deal", "tariffs.csv",
        "tariffs.csv, column rate", "no rate for sector(s) chip_exports at tier 's1'")
def _(d):
    table = rows(d, "tariffs.csv")
    write_rows(d, "tariffs.csv", [r for r in table if r[:4] != ["deal", "semis", "s1", "chip_exports"]])


@damage("38-sectors-growth-overflow", "autos grow 100% a year since a data_year of 1900 (growth_rate 1, data_year 1900)", "sectors.csv",
        "sectors.csv", "relief of a tier in a year", "the solver takes at most 1e12")
def _(d):
    set_cell(d, "sectors.csv", 2, "growth_rate", "1")
    replace(d, "case.yaml", "data_year: 2026", "data_year: 1900")


# --- CSV syntax ------------------------------------------------------------------------------


@damage("39-levers-too-many-fields", "row 5 of levers.csv has two fields more than the header", "levers.csv",
        "levers.csv", "cannot be read as CSV", "line 5")
def _(d):
    with open(d / "levers.csv", "a", encoding="utf-8") as f:
        f.write("steel,1,1,0,2026,0,1,1,true,x,extra\n")


@damage("40-levers-unclosed-quote", "row 5 of levers.csv opens a quote that never closes", "levers.csv",
        "levers.csv", "cannot be read as CSV")
def _(d):
    with open(d / "levers.csv", "a", encoding="utf-8") as f:
        f.write('"steel,1,1,0,2026,0,1,1,true\n')


@damage("41-levers-duplicated-header", "levers.csv has two capex_per_module columns", "levers.csv",
        "levers.csv, column capex_per_module", "twice")
def _(d):
    table = rows(d, "levers.csv")
    write_rows(d, "levers.csv", [table[0] + ["capex_per_module"]] + [r + ["9"] for r in table[1:]])


# --- case.yaml ---------------------------------------------------------------------------------


@damage("42-case-yaml-not-a-mapping", "case.yaml is a list, not field: value lines", "case.yaml", "case.yaml", "mapping")
def _(d):
    (d / "case.yaml").write_text("- tiny\n- 2026\n- 2027\n", encoding="utf-8")


@damage("43-case-yaml-python-tag", "case.yaml asks YAML to run os.system (a !!python tag)", "case.yaml",
        "case.yaml", "line 3", "!!python/object/apply:os.system", "not allowed")
def _(d):
    replace(d, "case.yaml", "name: tiny", 'name: !!python/object/apply:os.system ["echo relief ran this"]')


@damage("44-case-yaml-missing-field", "case.yaml has no first_year", "case.yaml",
        "case.yaml, column first_year", "required field is missing")
def _(d):
    replace(d, "case.yaml", "first_year: 2026\n", "")


@damage("45-case-yaml-last-before-first", "last_year 2025 is before first_year 2026", "case.yaml",
        "case.yaml, column last_year", "before first_year")
def _(d):
    replace(d, "case.yaml", "last_year: 2027", "last_year: 2025")


@damage("46-case-yaml-text-year", "first_year is 'soon'", "case.yaml", "case.yaml, column first_year", "'soon' is not a number")
def _(d):
    replace(d, "case.yaml", "first_year: 2026", "first_year: soon")


@damage("47-case-yaml-broken", "case.yaml opens a [ that never closes", "case.yaml", "case.yaml", "line 6")
def _(d):
    replace(d, "case.yaml", "first_year: 2026", "first_year: [2026")


@damage("48-case-yaml-empty", "case.yaml is empty", "case.yaml", "case.yaml", "file is empty")
def _(d):
    (d / "case.yaml").write_text("", encoding="utf-8")


@damage("49-case-yaml-duplicated-field", "case.yaml gives first_year twice", "case.yaml", "case.yaml", "'first_year' appears twice")
def _(d):
    (d / "case.yaml").write_text((d / "case.yaml").read_text(encoding="utf-8") + "first_year: 2025\n", encoding="utf-8")


@damage("50-case-yaml-nan", "discount_rate is NaN", "case.yaml", "case.yaml, column discount_rate", "not a finite number")
def _(d):
    replace(d, "case.yaml", "discount_rate: 0", "discount_rate: NaN")


@damage("51-case-yaml-list-value", "name is a list", "case.yaml", "case.yaml, column name", "single value")
def _(d):
    replace(d, "case.yaml", "name: tiny", "name: [tiny, small]")


@damage("52-case-yaml-alias-bomb", "name is a 'billion laughs' of YAML aliases (9^6 strings if printed)", "case.yaml",
        "case.yaml, column name", "single value")
def _(d):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 6):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    text = (d / "case.yaml").read_text(encoding="utf-8").replace("name: tiny", "name: *a5")
    (d / "case.yaml").write_text("\n".join(lines) + "\n" + text, encoding="utf-8")


@damage("53-case-yaml-deep-nesting", "notes is a list nested 1000 deep", "case.yaml", "case.yaml", "nested too deeply")
def _(d):
    (d / "case.yaml").write_text((d / "case.yaml").read_text(encoding="utf-8") + "notes: " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")


@damage("54-case-yaml-horizon-too-long", "last_year 2200 makes a 175-year horizon", "case.yaml",
        "case.yaml, column last_year", "longer than 100 years", "no public budget for year(s) 2028-2200")
def _(d):
    replace(d, "case.yaml", "last_year: 2027", "last_year: 2200")


@damage("55-case-yaml-nul", "case.yaml has a NUL character on line 3", "case.yaml", "case.yaml", "line 3", "#x0000")
def _(d):
    replace(d, "case.yaml", "name: tiny", "name: ti\x00ny")


# --- workbooks -------------------------------------------------------------------------------------


@damage("56-workbook-missing-sheet", "case.xlsx has no tariffs sheet", "case.xlsx [tariffs]",
        "case.xlsx [tariffs]", "sheet is missing", case="case.xlsx")
def _(d):
    import openpyxl

    book = workbook(d)
    wb = openpyxl.load_workbook(book)
    del wb["tariffs"]
    wb.save(book)


@damage("57-workbook-bad-cell", "cell B3 of sheet levers (chips' capex_per_module) is 'two'", "case.xlsx [levers]",
        "case.xlsx [levers], row 3, column capex_per_module", "'two' is not a number", case="case.xlsx")
def _(d):
    import openpyxl

    book = workbook(d)
    wb = openpyxl.load_workbook(book)
    wb["levers"]["B3"] = "two"
    wb.save(book)


@damage("58-workbook-bad-case-field", "the case sheet's first_year is 'soon'", "case.xlsx [case]",
        "case.xlsx [case], column first_year", "'soon' is not a number", case="case.xlsx")
def _(d):
    import openpyxl

    book = workbook(d)
    wb = openpyxl.load_workbook(book)
    for row in wb["case"].iter_rows(min_row=2):
        if row[0].value == "first_year":
            row[1].value = "soon"
    wb.save(book)


@damage("59-workbook-truncated", "case.xlsx cut to its first 2000 bytes", "case.xlsx",
        "case.xlsx", "cannot be read as an Excel workbook", case="case.xlsx")
def _(d):
    book = workbook(d)
    book.write_bytes(book.read_bytes()[:2000])


@damage("60-workbook-is-csv", "case.xlsx is really a CSV file", "case.xlsx",
        "case.xlsx", "cannot be read as an Excel workbook", case="case.xlsx")
def _(d):
    for p in d.iterdir():
        p.unlink()
    (d / "case.xlsx").write_text((TINY / "levers.csv").read_text(encoding="utf-8"), encoding="utf-8")


@damage("61-case-yaml-misspelt-field", "case.yaml says discount_rte for discount_rate (which would silently stay at its default)",
        "case.yaml", "case.yaml, column discount_rte", "did you mean discount_rate?")
def _(d):
    replace(d, "case.yaml", "discount_rate:", "discount_rte:")


@damage("62-levers-misspelt-column", "levers.csv's header says capex_per_modul for capex_per_module", "levers.csv",
        "levers.csv, column capex_per_module", "the header has 'capex_per_modul', did you mean capex_per_module?")
def _(d):
    table = rows(d, "levers.csv")
    table[0][table[0].index("capex_per_module")] = "capex_per_modul"
    write_rows(d, "levers.csv", table)


@damage("63-budget-semicolons", "budget.csv written with ';' between columns (a decimal-comma spreadsheet's CSV)",
        "budget.csv", "budget.csv, row 1", "must be separated by commas; this file uses semicolons (;)")
def _(d):
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(rows(d, "budget.csv"))
    (d / "budget.csv").write_text(out.getvalue(), encoding="utf-8")


@damage("64-workbook-misspelt-case-field", "the case sheet says discount_rte for discount_rate", "case.xlsx [case]",
        "case.xlsx [case], column discount_rte", "did you mean discount_rate?", case="case.xlsx")
def _(d):
    import openpyxl

    book = workbook(d)
    wb = openpyxl.load_workbook(book)
    for row in wb["case"].iter_rows(min_row=2):
        if row[0].value == "discount_rate":
            row[0].value = "discount_rte"
    wb.save(book)


@damage("65-levers-unknown-envelope", "levers.csv gets an envelope column; chips draw on 'masga', named nowhere",
        "levers.csv", "levers.csv, row 3, column envelope", "unknown envelope 'masga'")
def _(d):
    table = rows(d, "levers.csv")
    write_rows(d, "levers.csv", [r + [("envelope" if i == 0 else "masga" if r[0] == "chips" else "")]
                                 for i, r in enumerate(table)])


@damage("66-budget-envelope-missing-year", "budget.csv gets an envelope column and a 'cash' envelope with 2026 only",
        "budget.csv", "budget.csv, column year", "no budget of envelope cash for year(s) 2027")
def _(d):
    table = rows(d, "budget.csv")
    write_rows(d, "budget.csv", [["envelope"] + table[0]] + [["public"] + r for r in table[1:]] + [["cash", "2026", "1", ""]])


# --- obligations (obligations.csv) ------------------------------------------------------------------


@damage("70-obligations-by-year-outside-horizon", "an obligation on lng by 2030, after the horizon 2026-2027",
        "obligations.csv", "obligations.csv, row 2, column by_year", "outside the horizon 2026-2027")
def _(d):
    (d / "obligations.csv").write_text("lever,by_year,min_modules\nlng,2030,2\n", encoding="utf-8")


@damage("71-obligations-above-max-modules", "an obligation of 2 smelter modules, whose max_modules is 1",
        "obligations.csv", "obligations.csv, row 2, column min_modules", "its max_modules is 1")
def _(d):
    (d / "obligations.csv").write_text("lever,by_year,min_modules\nsmelter,2027,2\n", encoding="utf-8")


# --- owners and labellings (owners.csv order, labellings.csv; read by relief coordination) ---------

OWNERS = "owner,kind,order\nalpha,company,1\nbeta,company,2\n"


@damage("72-owners-shared-order", "alpha and beta both decide first (order 1)",
        "owners.csv", "owners.csv, row 3, column order", "as 'alpha' (row 2) has")
def _(d):
    (d / "owners.csv").write_text(OWNERS.replace("beta,company,2", "beta,company,1"), encoding="utf-8")


@damage("73-labellings-unknown-sector", "a labelling gives alpha the sectors autos and 'chips' (the sector is chip_exports)",
        "labellings.csv", "labellings.csv, row 2, column sectors", "unknown sector 'chips'")
def _(d):
    (d / "owners.csv").write_text(OWNERS, encoding="utf-8")
    (d / "labellings.csv").write_text("labelling,owner,kind,sectors\nwide,alpha,,autos;chips\n", encoding="utf-8")


@damage("74-labellings-changes-nothing", "a labelling's row for beta gives neither a kind nor sectors",
        "labellings.csv", "labellings.csv, row 3, column kind", "changes nothing of 'beta'")
def _(d):
    (d / "owners.csv").write_text(OWNERS, encoding="utf-8")
    (d / "labellings.csv").write_text("labelling,owner,kind,sectors\nx,alpha,government,\nx,beta,,\n",
                                      encoding="utf-8")


@damage("75-labellings-unknown-kind", "a labelling makes alpha 'public', not a kind of owner",
        "labellings.csv", "labellings.csv, row 2, column kind", "'public' is not a kind of owner")
def _(d):
    (d / "owners.csv").write_text(OWNERS, encoding="utf-8")
    (d / "labellings.csv").write_text("labelling,owner,kind,sectors\nx,alpha,public,\n", encoding="utf-8")


# --- odd but accepted (exit 0): the decisions -------------------------------------------------------


@damage("ok-01-utf8-bom", "levers.csv starts with a UTF-8 byte-order mark, as Excel's 'CSV UTF-8' writes: accepted",
        "levers.csv", exit=0)
def _(d):
    (d / "levers.csv").write_bytes(b"\xef\xbb\xbf" + (d / "levers.csv").read_bytes())


@damage("ok-02-unicode-lever-names", "lever chips is named 칩공장 (Korean for chip fab) everywhere: accepted",
        "levers.csv", exit=0)
def _(d):
    for f in ("levers.csv", "contributions.csv"):
        table = rows(d, f)
        write_rows(d, f, [[("칩공장" if c == "chips" else c) for c in r] for r in table])


@damage("ok-03-unknown-column", "levers.csv has an extra column 'colour': a warning, not an error", "levers.csv",
        "warning: levers.csv, column colour", "unknown column 'colour' is ignored", exit=0)
def _(d):
    table = rows(d, "levers.csv")
    write_rows(d, "levers.csv", [table[0] + ["colour"]] + [r + ["blue"] for r in table[1:]])


@damage("ok-04-odd-booleans-and-zeros", "integer spelled TRUE, Yes and 1; a rate of -0; a score of 1e-320: accepted",
        "levers.csv", exit=0)
def _(d):
    for row, spelling in ((2, "TRUE"), (3, "Yes"), (4, "1")):
        set_cell(d, "levers.csv", row, "integer", spelling)
    set_cell(d, "tariffs.csv", 5, "rate", "-0")
    set_cell(d, "contributions.csv", 4, "score_per_module", "1e-320")


@damage("ok-05-crlf-spaces-blank-lines", "Windows line ends, spaces after commas and blank lines at the end: accepted",
        "levers.csv", exit=0)
def _(d):
    text = (d / "levers.csv").read_text(encoding="utf-8").replace(",", ", ").replace("\n", "\r\n")
    (d / "levers.csv").write_bytes((text + "\r\n\r\n").encode("utf-8"))


@damage("ok-06-labellings-sectors-of-government", "a labelling makes alpha government and lists its sectors: a "
        "warning (the government cares about every sector), not an error", "labellings.csv",
        "warning: labellings.csv, row 2, column sectors", "cares about every sector", exit=0)
def _(d):
    (d / "owners.csv").write_text(OWNERS, encoding="utf-8")
    (d / "labellings.csv").write_text("labelling,owner,kind,sectors\nx,alpha,government,autos\n", encoding="utf-8")


def main() -> None:
    for old in HERE.iterdir():
        if old.is_dir() and (old / "expected.txt").exists():
            shutil.rmtree(old)
    for d in DAMAGES:
        folder = HERE / d["name"]
        shutil.copytree(TINY, folder, ignore=shutil.ignore_patterns("README.md"))
        d["fn"](folder)
        lines = [f"damage: {d['what']}"]
        if d["case"]:
            lines.append(f"case: {d['case']}")
        lines += [f"exit: {d['exit']}", f"file: {d['file']}"] + [f"expect: {e}" for e in d["expect"]]
        (folder / "expected.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    n = sum(1 for d in DAMAGES if d["exit"] == 2)
    print(f"wrote {len(DAMAGES)} cases to {HERE} ({n} damaged, {len(DAMAGES) - n} accepted)")


if __name__ == "__main__":
    main()
