"""One test per validation rule of a case (model-spec section 2, issue 2 item 2).

Each test copies examples/tiny to a temporary folder, damages one thing, and checks that
`load_case` raises CaseError whose problems name the right file, row and column, with a
word of the message a planner would recognise. Rows are spreadsheet rows: the header is
row 1, the first data row is row 2. Also: the .xlsx form of a case, and the parameter
paths of `--set` (apply_overrides).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from relief.model.core.case import Case, CaseError, Problem, load_case
from relief.model.core.overrides import OverrideError, apply_overrides
from relief.model.core.schema import TABLES

TINY = Path(__file__).resolve().parents[1] / "examples" / "tiny"
TINY_RELIEF = 2.2
REQUIRED_TABLES = [name for name, spec in TABLES.items() if not spec.optional]


# ----------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------


@pytest.fixture
def case_dir(tmp_path) -> Path:
    """A fresh copy of examples/tiny to damage."""
    dst = tmp_path / "tiny"
    shutil.copytree(TINY, dst)
    return dst


def read_rows(folder: Path, file: str) -> list[list[str]]:
    with open(folder / file, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(folder: Path, file: str, rows: list[list[str]]) -> None:
    with open(folder / file, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def set_cell(folder: Path, file: str, row: int, column: str, value: str) -> None:
    """Set the cell at spreadsheet row `row` (header = 1) and column `column`."""
    rows = read_rows(folder, file)
    j = rows[0].index(column)
    rows[row - 1][j] = value
    write_rows(folder, file, rows)


def find_row(folder: Path, file: str, **match) -> int:
    """Spreadsheet row number of the first data row whose cells equal `match`."""
    rows = read_rows(folder, file)
    head = rows[0]
    for n, r in enumerate(rows[1:], start=2):
        if all(r[head.index(k)] == v for k, v in match.items()):
            return n
    raise AssertionError(f"no row {match} in {file}")


def drop_rows(folder: Path, file: str, **match) -> list[int]:
    rows = read_rows(folder, file)
    head = rows[0]
    keep, dropped = [head], []
    for n, r in enumerate(rows[1:], start=2):
        if all(r[head.index(k)] == v for k, v in match.items()):
            dropped.append(n)
        else:
            keep.append(r)
    assert dropped, f"no row {match} in {file}"
    write_rows(folder, file, keep)
    return dropped


def append_row(folder: Path, file: str, **values) -> int:
    rows = read_rows(folder, file)
    head = rows[0]
    rows.append([str(values.get(c, "")) for c in head])
    write_rows(folder, file, rows)
    return len(rows)


def drop_column(folder: Path, file: str, column: str) -> None:
    rows = read_rows(folder, file)
    j = rows[0].index(column)
    write_rows(folder, file, [r[:j] + r[j + 1 :] for r in rows])


def edit_yaml(folder: Path, **changes) -> None:
    meta = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
    for k, v in changes.items():
        if v is None:
            meta.pop(k, None)
        else:
            meta[k] = v
    (folder / "case.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")


def problems_of(path) -> list[Problem]:
    with pytest.raises(CaseError) as info:
        load_case(path)
    problems = info.value.problems
    assert problems, "CaseError without problems"
    for p in problems:
        assert isinstance(p, Problem)
        assert p.level == "error"
    return problems


def expect(path, file: str, row: int | None, column: str | None, *words: str) -> Problem:
    """Exactly one kind of problem: some problem is in `file`, at `row`/`column`, and
    its message contains every word (case-insensitive)."""
    problems = problems_of(path)
    for p in problems:
        if (
            p.file == file
            and p.row == row
            and p.column == column
            and all(w.lower() in p.message.lower() for w in words)
        ):
            # the printed form names the place too, as the CLI shows it
            text = str(p)
            assert file in text
            if row is not None:
                assert f"row {row}" in text
            if column is not None:
                assert f"column {column}" in text
            return p
    listing = "\n".join(f"  file={p.file!r} row={p.row!r} column={p.column!r}: {p.message}" for p in problems)
    raise AssertionError(f"expected a problem in {file} row {row} column {column} with {words}; got:\n{listing}")


def test_tiny_case_is_valid_as_shipped():
    case = load_case(TINY)
    assert case.name == "tiny"
    assert case.years == [2026, 2027]
    assert not case.warnings


# ----------------------------------------------------------------------------------
# missing files and columns
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("file", [TABLES[n].file for n in REQUIRED_TABLES] + ["case.yaml"])
def test_missing_file(case_dir, file):
    (case_dir / file).unlink()
    expect(case_dir, file, None, None, "missing")


def test_missing_case_folder(tmp_path):
    expect(tmp_path / "nope", str(tmp_path / "nope"), None, None, "no such")


def test_all_missing_files_reported_together(case_dir):
    for f in ("levers.csv", "tariffs.csv", "case.yaml"):
        (case_dir / f).unlink()
    files = {p.file for p in problems_of(case_dir)}
    assert {"levers.csv", "tariffs.csv", "case.yaml"} <= files


@pytest.mark.parametrize(
    "table,column",
    [(name, c.name) for name in REQUIRED_TABLES for c in TABLES[name].columns if c.required],
)
def test_missing_column(case_dir, table, column):
    file = TABLES[table].file
    drop_column(case_dir, file, column)
    expect(case_dir, file, None, column, "missing")


@pytest.mark.parametrize("field", ["name", "first_year", "last_year", "data_year"])
def test_missing_required_case_field(case_dir, field):
    edit_yaml(case_dir, **{field: None})
    expect(case_dir, "case.yaml", None, field, "missing")


def test_blank_cell(case_dir):
    row = find_row(case_dir, "levers.csv", lever="chips")
    set_cell(case_dir, "levers.csv", row, "capex_per_module", "")
    expect(case_dir, "levers.csv", row, "capex_per_module", "missing")


# ----------------------------------------------------------------------------------
# wrong types
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "file,match,column,value,word",
    [
        ("levers.csv", {"lever": "chips"}, "capex_per_module", "two", "not a number"),
        ("levers.csv", {"lever": "smelter"}, "integer", "maybe", "true or false"),
        ("levers.csv", {"lever": "lng"}, "lead_time_years", "1.5", "whole number"),
        ("levers.csv", {"lever": "chips"}, "earliest_year", "2026.5", "whole number"),
        ("sectors.csv", {"sector": "autos"}, "exports_usd_bn", "ten", "not a number"),
        ("scenarios.csv", {"scenario": "hard"}, "probability", "likely", "not a number"),
        ("budget.csv", {"year": "2027"}, "year", "next year", "not a number"),
        ("budget.csv", {"year": "2026"}, "public_budget_usd_bn", "3bn", "not a number"),
        ("tiers.csv", {"scenario": "deal", "track": "general", "tier": "t1"}, "threshold", "high", "not a number"),
        ("tariffs.csv", {"scenario": "hard", "track": "general", "tier": "t1"}, "rate", "nan", "finite"),
        ("contributions.csv", {"lever": "chips"}, "score_per_module", "inf", "finite"),
    ],
)
def test_wrong_type(case_dir, file, match, column, value, word):
    row = find_row(case_dir, file, **match)
    set_cell(case_dir, file, row, column, value)
    expect(case_dir, file, row, column, word)


def test_wrong_type_in_case_yaml(case_dir):
    edit_yaml(case_dir, first_year="next year")
    expect(case_dir, "case.yaml", None, "first_year", "not a number")


def test_fractional_year_in_case_yaml(case_dir):
    edit_yaml(case_dir, last_year=2027.5)
    expect(case_dir, "case.yaml", None, "last_year", "whole number")


def test_percent_in_rate(case_dir):
    row = find_row(case_dir, "tariffs.csv", scenario="deal", track="general", tier="base")
    set_cell(case_dir, "tariffs.csv", row, "rate", "25%")
    p = expect(case_dir, "tariffs.csv", row, "rate", "percentage")
    assert "0.15" in p.message or "fraction" in p.message


def test_percent_in_case_yaml(case_dir):
    edit_yaml(case_dir, discount_rate="5%")
    expect(case_dir, "case.yaml", None, "discount_rate", "percentage")


def test_identifier_with_path_characters(case_dir):
    # ':' and '*' are the separators of parameter paths, so an id may not hold them
    for file, column in [("levers.csv", "lever"), ("contributions.csv", "lever")]:
        row = find_row(case_dir, file, lever="lng")
        set_cell(case_dir, file, row, column, "lng:2")
    expect(case_dir, "levers.csv", find_row(case_dir, "levers.csv", lever="lng:2"), "lever", "':'")


# ----------------------------------------------------------------------------------
# out-of-range values
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "file,match,column,value",
    [
        ("levers.csv", {"lever": "smelter"}, "public_share", "1.2"),
        ("levers.csv", {"lever": "smelter"}, "public_share", "-0.1"),
        ("levers.csv", {"lever": "chips"}, "capex_per_module", "-2"),
        ("levers.csv", {"lever": "chips"}, "lead_time_years", "-1"),
        ("levers.csv", {"lever": "chips"}, "max_modules_per_year", "-1"),
        ("levers.csv", {"lever": "chips"}, "min_modules", "-1"),
        ("scenarios.csv", {"scenario": "deal"}, "probability", "1.5"),
        ("scenarios.csv", {"scenario": "deal"}, "probability", "-0.2"),
        ("scenarios.csv", {"scenario": "deal"}, "commitment_credit", "-0.1"),
        ("scenarios.csv", {"scenario": "deal"}, "commitment_credit", "1.5"),
        ("sectors.csv", {"sector": "autos"}, "growth_rate", "-1"),
        ("sectors.csv", {"sector": "autos"}, "growth_rate", "-1.5"),
        ("sectors.csv", {"sector": "autos"}, "exports_usd_bn", "-10"),
        ("tariffs.csv", {"scenario": "deal", "track": "general", "tier": "t1"}, "rate", "-0.05"),
        ("tiers.csv", {"scenario": "deal", "track": "general", "tier": "t1"}, "threshold", "-5"),
        ("budget.csv", {"year": "2027"}, "public_budget_usd_bn", "-3"),
        ("pillar_weights.csv", {"scenario": "deal", "track": "general", "pillar": "semis"}, "weight", "-1"),
        ("contributions.csv", {"lever": "smelter"}, "score_per_module", "-10"),
    ],
)
def test_out_of_range(case_dir, file, match, column, value):
    row = find_row(case_dir, file, **match)
    set_cell(case_dir, file, row, column, value)
    expect(case_dir, file, row, column, "out of range")


@pytest.mark.parametrize(
    "field,value",
    [
        ("discount_rate", -1),
        ("discount_rate", -2.0),
        ("total_public_budget", -5),
        ("time_limit", 0),
        ("mip_gap", -0.1),
        ("threads", 0),
        ("seed", -1),
    ],
)
def test_out_of_range_case_field(case_dir, field, value):
    edit_yaml(case_dir, **{field: value})
    expect(case_dir, "case.yaml", None, field, "out of range")


def test_growth_rate_just_above_minus_one_is_fine(case_dir):
    set_cell(case_dir, "sectors.csv", find_row(case_dir, "sectors.csv", sector="autos"), "growth_rate", "-0.99")
    load_case(case_dir)


# ----------------------------------------------------------------------------------
# unknown keys
# ----------------------------------------------------------------------------------


def test_unknown_lever_in_contributions(case_dir):
    row = find_row(case_dir, "contributions.csv", lever="chips")
    set_cell(case_dir, "contributions.csv", row, "lever", "chip_fab")
    p = expect(case_dir, "contributions.csv", row, "lever", "unknown")
    assert "chip_fab" in p.message


def test_unknown_scenario_in_tiers(case_dir):
    row = find_row(case_dir, "tiers.csv", scenario="hard", track="semis", tier="s1")
    set_cell(case_dir, "tiers.csv", row, "scenario", "hardline")
    p = expect(case_dir, "tiers.csv", row, "scenario", "unknown")
    assert "hardline" in p.message


def test_unknown_scenario_in_pillar_weights(case_dir):
    row = find_row(case_dir, "pillar_weights.csv", scenario="hard", track="semis")
    set_cell(case_dir, "pillar_weights.csv", row, "scenario", "soft")
    expect(case_dir, "pillar_weights.csv", row, "scenario", "unknown", "soft")


def test_unknown_track_in_tiers(case_dir):
    row = find_row(case_dir, "tiers.csv", scenario="deal", track="semis", tier="s1")
    set_cell(case_dir, "tiers.csv", row, "track", "semiconductors")
    p = expect(case_dir, "tiers.csv", row, "track", "unknown", "track")
    assert "semiconductors" in p.message


def test_unknown_track_in_pillar_weights(case_dir):
    row = find_row(case_dir, "pillar_weights.csv", scenario="deal", track="semis")
    set_cell(case_dir, "pillar_weights.csv", row, "track", "chips_track")
    expect(case_dir, "pillar_weights.csv", row, "track", "unknown", "chips_track")


def test_unknown_sector_in_tariffs(case_dir):
    row = find_row(case_dir, "tariffs.csv", scenario="hard", track="general", tier="t1")
    set_cell(case_dir, "tariffs.csv", row, "sector", "cars")
    p = expect(case_dir, "tariffs.csv", row, "sector", "unknown")
    assert "cars" in p.message


def test_tier_not_in_the_ladder(case_dir):
    row = find_row(case_dir, "tariffs.csv", scenario="hard", track="general", tier="t1")
    set_cell(case_dir, "tariffs.csv", row, "tier", "t2")
    p = expect(case_dir, "tariffs.csv", row, "tier", "not in the ladder")
    assert "t2" in p.message and "hard" in p.message


def test_tier_of_another_track_is_not_in_the_ladder(case_dir):
    # s1 exists, but in the semis ladder, not in the general one
    row = append_row(case_dir, "tariffs.csv", scenario="deal", track="general", tier="s1", sector="autos", rate="0.1")
    expect(case_dir, "tariffs.csv", row, "tier", "not in the ladder", "s1")


def _add_pools(folder: Path, lever_pool_rows: list[dict]) -> None:
    write_rows(folder, "pools.csv", [["pool", "limit"], ["cash", "100"]])
    head = ["lever", "pool", "use_per_module"]
    write_rows(folder, "lever_pools.csv", [head] + [[r[c] for c in head] for r in lever_pool_rows])


def test_valid_pools_load(case_dir):
    _add_pools(case_dir, [{"lever": "chips", "pool": "cash", "use_per_module": "2"}])
    case = load_case(case_dir)
    assert list(case.table("pools")["pool"]) == ["cash"]


def test_unknown_pool_in_lever_pools(case_dir):
    _add_pools(
        case_dir,
        [
            {"lever": "chips", "pool": "cash", "use_per_module": "2"},
            {"lever": "smelter", "pool": "yard", "use_per_module": "1"},
        ],
    )
    p = expect(case_dir, "lever_pools.csv", 3, "pool", "unknown")
    assert "yard" in p.message


def test_unknown_lever_in_lever_pools(case_dir):
    _add_pools(case_dir, [{"lever": "steel", "pool": "cash", "use_per_module": "2"}])
    expect(case_dir, "lever_pools.csv", 2, "lever", "unknown", "steel")


def test_unknown_relation_type(case_dir):
    write_rows(
        case_dir,
        "relations.csv",
        [["lever", "relation", "other"], ["chips", "requires", "smelter"], ["lng", "needs", "chips"]],
    )
    p = expect(case_dir, "relations.csv", 3, "relation", "not a relation")
    assert "needs" in p.message and "requires" in p.message


def test_unknown_lever_in_relations(case_dir):
    write_rows(case_dir, "relations.csv", [["lever", "relation", "other"], ["chips", "excludes", "steel"]])
    expect(case_dir, "relations.csv", 2, "other", "unknown", "steel")


def test_relation_to_itself(case_dir):
    write_rows(case_dir, "relations.csv", [["lever", "relation", "other"], ["chips", "requires", "chips"]])
    expect(case_dir, "relations.csv", 2, "other", "itself")


def test_valid_relations_load(case_dir):
    write_rows(
        case_dir,
        "relations.csv",
        [["lever", "relation", "other"], ["chips", "requires", "smelter"], ["lng", "excludes", "chips"]],
    )
    case = load_case(case_dir)
    assert len(case.table("relations")) == 2


def test_tier_requirement_unknown_tier(case_dir):
    write_rows(
        case_dir,
        "tier_requirements.csv",
        [["scenario", "track", "tier", "pillar", "min_score"], ["deal", "general", "t7", "minerals", "3"]],
    )
    expect(case_dir, "tier_requirements.csv", 2, "tier", "not in the ladder", "t7")


# ----------------------------------------------------------------------------------
# duplicated keys
# ----------------------------------------------------------------------------------


def test_duplicated_key(case_dir):
    rows = read_rows(case_dir, "levers.csv")
    rows.append(list(rows[2]))  # chips again
    write_rows(case_dir, "levers.csv", rows)
    p = expect(case_dir, "levers.csv", len(rows), "lever", "more than once")
    assert "chips" in p.message


def test_duplicated_composite_key(case_dir):
    row = append_row(case_dir, "tariffs.csv", scenario="deal", track="general", tier="t1", sector="autos", rate="0.1")
    p = expect(case_dir, "tariffs.csv", row, "sector", "more than once")
    assert "deal:general:t1:autos" in p.message


def test_duplicated_budget_year(case_dir):
    row = append_row(case_dir, "budget.csv", year="2027", public_budget_usd_bn="9")
    expect(case_dir, "budget.csv", row, "year", "more than once", "2027")


# ----------------------------------------------------------------------------------
# ladders and rates
# ----------------------------------------------------------------------------------


def test_scenario_without_a_ladder_on_a_track(case_dir):
    drop_rows(case_dir, "tiers.csv", scenario="hard", track="semis")
    drop_rows(case_dir, "tariffs.csv", scenario="hard", track="semis")
    p = expect(case_dir, "tiers.csv", None, None, "no ladder")
    assert "hard" in p.message and "semis" in p.message


def test_ladder_without_baseline(case_dir):
    row = find_row(case_dir, "tiers.csv", scenario="deal", track="general", tier="base")
    set_cell(case_dir, "tiers.csv", row, "threshold", "1")
    p = expect(case_dir, "tiers.csv", None, "threshold", "baseline")
    assert "deal" in p.message and "general" in p.message
    assert f"rows {row}" in p.message  # the rows of the ladder are named


def test_ladder_with_two_baselines(case_dir):
    row = find_row(case_dir, "tiers.csv", scenario="hard", track="semis", tier="s1")
    set_cell(case_dir, "tiers.csv", row, "threshold", "0")
    p = expect(case_dir, "tiers.csv", None, "threshold", "2 tiers", "baseline")
    assert "hard" in p.message and "semis" in p.message and str(row) in p.message


def test_tier_missing_a_sector_rate(case_dir):
    drop_rows(case_dir, "tariffs.csv", scenario="hard", track="general", tier="t1")
    tier_row = find_row(case_dir, "tiers.csv", scenario="hard", track="general", tier="t1")
    p = expect(case_dir, "tariffs.csv", None, "rate", "no rate", "autos")
    assert "t1" in p.message and "hard" in p.message and f"row {tier_row}" in p.message


def test_sector_rated_under_the_wrong_track(case_dir):
    row = append_row(
        case_dir, "tariffs.csv", scenario="deal", track="general", tier="base", sector="chip_exports", rate="0.25"
    )
    p = expect(case_dir, "tariffs.csv", row, "sector", "belongs to track")
    assert "semis" in p.message


def test_new_sector_without_rates(case_dir):
    append_row(case_dir, "sectors.csv", sector="parts", track="general", exports_usd_bn="3", growth_rate="0")
    problems = problems_of(case_dir)
    missing = [p for p in problems if p.file == "tariffs.csv" and "parts" in p.message]
    # every tier of every general ladder (2 scenarios x 2 tiers) lacks a rate for parts
    assert len(missing) == 4


# ----------------------------------------------------------------------------------
# sums, horizon, sizes
# ----------------------------------------------------------------------------------


def test_probabilities_not_summing_to_one(case_dir):
    set_cell(case_dir, "scenarios.csv", find_row(case_dir, "scenarios.csv", scenario="deal"), "probability", "0.5")
    p = expect(case_dir, "scenarios.csv", None, "probability", "sum")
    assert "0.9" in p.message


def test_probabilities_within_tolerance_are_fine(case_dir):
    set_cell(
        case_dir, "scenarios.csv", find_row(case_dir, "scenarios.csv", scenario="deal"), "probability", "0.6000000001"
    )
    load_case(case_dir)


def test_horizon_year_missing_from_budget(case_dir):
    drop_rows(case_dir, "budget.csv", year="2027")
    p = expect(case_dir, "budget.csv", None, "year", "2027")
    assert "budget" in p.message


def test_longer_horizon_needs_budget_years(case_dir):
    edit_yaml(case_dir, last_year=2029)
    p = expect(case_dir, "budget.csv", None, "year", "2028")
    assert "2029" in p.message


def test_min_modules_above_max_modules(case_dir):
    row = find_row(case_dir, "levers.csv", lever="chips")
    set_cell(case_dir, "levers.csv", row, "min_modules", "3")
    p = expect(case_dir, "levers.csv", row, "min_modules", "max_modules")
    assert "3" in p.message and "2" in p.message


def test_last_year_before_first_year(case_dir):
    edit_yaml(case_dir, last_year=2025)
    p = expect(case_dir, "case.yaml", None, "last_year", "before")
    assert "2025" in p.message and "2026" in p.message


# ----------------------------------------------------------------------------------
# unreadable files
# ----------------------------------------------------------------------------------


def test_broken_yaml(case_dir):
    (case_dir / "case.yaml").write_text("name: tiny\nfirst_year: [2026\nlast_year: 2027\n", encoding="utf-8")
    p = expect(case_dir, "case.yaml", None, None)
    assert "line" in p.message


def test_yaml_with_a_tab(case_dir):
    (case_dir / "case.yaml").write_text("name: tiny\n\tfirst_year: 2026\n", encoding="utf-8")
    expect(case_dir, "case.yaml", None, None, "line")


@pytest.mark.parametrize("text", ["- 2026\n- 2027\n", "just words\n", "42\n"])
def test_case_yaml_not_a_mapping(case_dir, text):
    (case_dir / "case.yaml").write_text(text, encoding="utf-8")
    expect(case_dir, "case.yaml", None, None, "mapping")


def test_empty_case_yaml(case_dir):
    (case_dir / "case.yaml").write_text("", encoding="utf-8")
    expect(case_dir, "case.yaml", None, None, "empty")


@pytest.mark.parametrize("content", ["", "\n\n", "   \n"])
def test_empty_csv_file(case_dir, content):
    (case_dir / "sectors.csv").write_text(content, encoding="utf-8")
    expect(case_dir, "sectors.csv", None, None, "empty")


def test_csv_with_header_only(case_dir):
    rows = read_rows(case_dir, "levers.csv")
    write_rows(case_dir, "levers.csv", rows[:1])
    expect(case_dir, "levers.csv", None, None, "no rows")


def test_non_utf8_csv(case_dir):
    data = (case_dir / "levers.csv").read_text(encoding="utf-8").replace("toy numbers", "toy numbers \u00e9t\u00e9 ")
    (case_dir / "levers.csv").write_bytes(data.encode("latin-1"))
    expect(case_dir, "levers.csv", 2, None, "UTF-8")  # the row of the first byte that is not UTF-8


def test_non_utf8_yaml(case_dir):
    data = (case_dir / "case.yaml").read_text(encoding="utf-8").replace("Two-year", "Deux ann\u00e9es")
    (case_dir / "case.yaml").write_bytes(data.encode("latin-1"))
    expect(case_dir, "case.yaml", None, None, "UTF-8")


def test_utf8_bom_and_spaces_are_accepted(case_dir):
    # Excel's "CSV UTF-8" writes a byte-order mark; people type spaces after commas
    text = (case_dir / "levers.csv").read_text(encoding="utf-8").replace(",", ", ")
    (case_dir / "levers.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    case = load_case(case_dir)
    assert list(case.table("levers")["lever"]) == ["smelter", "chips", "lng"]


def test_row_numbers_count_blank_lines_like_a_spreadsheet(case_dir):
    """A blank line in a CSV is a row in a spreadsheet; the reported row must be the one a
    planner sees when opening the file (or the line number in a text editor)."""
    lines = (case_dir / "levers.csv").read_text(encoding="utf-8").splitlines()
    # header, smelter, (blank), chips, lng
    lines.insert(2, "")
    (case_dir / "levers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert lines[3].startswith("chips,")
    set_cell(case_dir, "levers.csv", 4, "capex_per_module", "two")  # physical row 4
    expect(case_dir, "levers.csv", 4, "capex_per_module", "not a number")


def test_duplicated_column_header(case_dir):
    """Two columns with one name: which one is meant is unknowable, so it is an error
    (not the first silently used and the second reported as an unknown column)."""
    rows = read_rows(case_dir, "levers.csv")
    write_rows(case_dir, "levers.csv", [rows[0] + ["capex_per_module"]] + [r + ["99"] for r in rows[1:]])
    expect(case_dir, "levers.csv", None, "capex_per_module", "twice")


def test_row_with_too_many_fields(case_dir):
    with open(case_dir / "levers.csv", "a", encoding="utf-8") as f:
        f.write("steel,1,1,0,2026,0,1,1,true,x,extra\n")
    p = expect(case_dir, "levers.csv", None, None, "CSV")
    assert "5" in str(p)  # the line of the bad row


def test_unclosed_quote(case_dir):
    with open(case_dir / "levers.csv", "a", encoding="utf-8") as f:
        f.write('"steel,1,1,0,2026,0,1,1,true\n')
    expect(case_dir, "levers.csv", None, None, "CSV")


def test_case_yaml_path_loads_its_folder(case_dir):
    assert load_case(case_dir / "case.yaml").name == "tiny"


def test_a_csv_is_not_a_case(case_dir):
    expect(case_dir / "levers.csv", str(case_dir / "levers.csv"), None, None, "folder")


def test_empty_folder_lists_every_required_file(tmp_path):
    files = {p.file for p in problems_of(tmp_path)}
    assert files == {TABLES[n].file for n in REQUIRED_TABLES} | {"case.yaml"}


def test_an_unknown_column_unlike_any_is_a_warning_kept_as_notes(case_dir):
    rows = read_rows(case_dir, "levers.csv")
    write_rows(case_dir, "levers.csv", [r + ["x"] for r in rows[:1]] + [r + ["1"] for r in rows[1:]])
    case = load_case(case_dir)
    where = {(w.file, w.column) for w in case.warnings}
    assert ("levers.csv", "x") in where


def test_an_unknown_case_yaml_field_is_an_error(case_dir):
    edit_yaml(case_dir, colour="blue")
    p = expect(case_dir, "case.yaml", None, "colour", "unknown field 'colour'", "notes")
    assert "did you mean" not in p.message  # nothing is close to colour: the known fields are listed


def test_a_misspelt_case_yaml_field_is_an_error_with_did_you_mean(case_dir):
    """Issue 11 item 2: `discount_rte: 0.05` left discount_rate at its default and validated."""
    edit_yaml(case_dir, discount_rate=None, discount_rte=0.05)
    p = expect(case_dir, "case.yaml", None, "discount_rte", "did you mean discount_rate?")
    assert str(p) == "case.yaml, column discount_rte: unknown field 'discount_rte': did you mean discount_rate?"


@pytest.mark.parametrize("key, meant", [("First_Year", "first_year"), ("total-public-budget", "total_public_budget")])
def test_a_field_in_another_spelling_is_named(case_dir, key, meant):
    text = (case_dir / "case.yaml").read_text(encoding="utf-8")
    (case_dir / "case.yaml").write_text(text + f"{key}: 1\n", encoding="utf-8")
    expect(case_dir, "case.yaml", None, key, f"did you mean {meant}?")


@pytest.mark.parametrize("field", ["description", "source", "notes"])
def test_words_for_people_in_case_yaml_stay_allowed(case_dir, field):
    edit_yaml(case_dir, **{field: "why this case: a test"})
    assert load_case(case_dir).meta[field] == "why this case: a test"


def test_a_misspelt_required_column_names_the_look_alike(case_dir):
    rows = read_rows(case_dir, "levers.csv")
    rows[0][rows[0].index("capex_per_module")] = "capex_per_modul"
    write_rows(case_dir, "levers.csv", rows)
    p = expect(case_dir, "levers.csv", None, "capex_per_module", "required column is missing")
    assert "the header has 'capex_per_modul', did you mean capex_per_module?" in p.message
    # one problem for the one slip, not also an "unknown column" warning
    assert not any(q.column == "capex_per_modul" for q in problems_of(case_dir))


def test_a_transposed_short_column_name_is_found(case_dir):
    rows = read_rows(case_dir, "budget.csv")
    rows[0][rows[0].index("year")] = "yaer"
    write_rows(case_dir, "budget.csv", rows)
    expect(case_dir, "budget.csv", None, "year", "did you mean year?")


def test_a_misspelt_optional_column_is_an_error_not_its_default(tmp_path):
    """levers.owner is optional (default: the government): 'Owners' must not silently leave
    every lever to the government."""
    case_dir = tmp_path / "two"
    shutil.copytree(TINY.parent / "two-owners", case_dir)
    rows = read_rows(case_dir, "levers.csv")
    rows[0][rows[0].index("owner")] = "Owners"
    write_rows(case_dir, "levers.csv", rows)
    p = expect(case_dir, "levers.csv", None, "Owners", "unknown column 'Owners'", "did you mean owner?")
    assert "default, government" in p.message


def test_an_info_column_misspelt_is_a_warning_with_a_hint(case_dir):
    rows = read_rows(case_dir, "levers.csv")
    rows[0][rows[0].index("notes")] = "Note"
    write_rows(case_dir, "levers.csv", rows)
    case = load_case(case_dir)  # an unknown column close to a column people use: still only a note
    (w,) = [w for w in case.warnings if w.column == "Note"]
    assert "did you mean notes?" in w.message and w.level == "warning"


def test_a_look_alike_beside_the_real_column_is_a_note_saying_which_is_read(case_dir):
    rows = read_rows(case_dir, "levers.csv")
    write_rows(case_dir, "levers.csv", [rows[0] + ["capex_per_module_2024"]] + [r + ["9"] for r in rows[1:]])
    case = load_case(case_dir)
    (w,) = [w for w in case.warnings if w.column == "capex_per_module_2024"]
    assert w.message == "unknown column 'capex_per_module_2024' is ignored (capex_per_module is read)"
    assert case.table("levers")["capex_per_module"].tolist() == [4.0, 2.0, 0.5]  # not the 9s


@pytest.mark.parametrize("separator, words", [(";", "semicolons (;)"), ("\t", "tabs")])
def test_a_csv_with_another_separator_says_so(case_dir, separator, words):
    rows = read_rows(case_dir, "budget.csv")
    rows[1][-1] = "a note, with a comma"  # as Excel writes it: commas inside values, quoted or not
    with open(case_dir / "budget.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=separator, lineterminator="\n").writerows(rows)
    p = expect(case_dir, "budget.csv", 1, None, "must be separated by commas", f"this file uses {words}")
    assert "tokenizing" not in p.message


def test_a_row_with_a_value_too_many_says_which_line_and_why(case_dir):
    text = (case_dir / "budget.csv").read_text(encoding="utf-8").splitlines()
    text[2] += ",one, two"
    (case_dir / "budget.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    p = expect(case_dir, "budget.csv", None, None, "line 3 has 5 values where the header has 3 columns", "quotes")
    assert "tokenizing" not in p.message


def test_a_workbook_case_sheet_with_a_misspelt_field_is_an_error(tmp_path, case_dir):
    edit_yaml(case_dir, discount_rate=None, discount_rte=0.05)
    book = write_workbook(case_dir, tmp_path / "tiny.xlsx")
    expect(book, "tiny.xlsx [case]", None, "discount_rte", "did you mean discount_rate?")


# ----------------------------------------------------------------------------------
# owners' turns and labellings (owners.csv order, labellings.csv: relief coordination)
# ----------------------------------------------------------------------------------

OWNERS = "owner,kind,order\nalpha,company,1\nbeta,company,2\ngov_bank,government,\n"


def _labelled(case_dir: Path, labellings: str) -> Path:
    (case_dir / "owners.csv").write_text(OWNERS, encoding="utf-8")
    (case_dir / "labellings.csv").write_text("labelling,owner,kind,sectors\n" + labellings, encoding="utf-8")
    return case_dir


def test_owners_with_turns_and_labellings_are_valid(case_dir):
    case = load_case(_labelled(case_dir, "wide,alpha,, autos ; chip_exports\nwide,beta,government,\nx,alpha,,none\n"))
    assert not case.warnings
    assert [None if pd.isna(v) else v for v in case.table("owners")["order"]] == [1, 2, None]


def test_two_owners_sharing_a_turn(case_dir):
    (case_dir / "owners.csv").write_text(OWNERS.replace("beta,company,2", "beta,company,1"), encoding="utf-8")
    expect(case_dir, "owners.csv", 3, "order", "'beta' has order 1", "'alpha' (row 2)")


def test_blank_turns_are_not_shared_turns(case_dir):
    (case_dir / "owners.csv").write_text("owner,kind,order\nalpha,company,\nbeta,company,\n", encoding="utf-8")
    assert not load_case(case_dir).warnings


def test_a_turn_below_one(case_dir):
    (case_dir / "owners.csv").write_text(OWNERS.replace("alpha,company,1", "alpha,company,0"), encoding="utf-8")
    expect(case_dir, "owners.csv", 2, "order", "0")


def test_labelling_unknown_sector_is_named(case_dir):
    _labelled(case_dir, "wide,alpha,,autos;chips\n")
    p = expect(case_dir, "labellings.csv", 2, "sectors", "unknown sector 'chips'")
    assert "autos" not in p.message  # the good name is not reported


def test_labelling_none_stands_alone(case_dir):
    _labelled(case_dir, "wide,alpha,,autos;none\n")
    expect(case_dir, "labellings.csv", 2, "sectors", "'none' means no sector")


def test_labelling_row_changing_nothing(case_dir):
    _labelled(case_dir, "x,alpha,government,\nx,beta,,\n")
    expect(case_dir, "labellings.csv", 3, "kind", "changes nothing of 'beta'")


def test_labelling_unknown_kind(case_dir):
    _labelled(case_dir, "x,alpha,public,\n")
    expect(case_dir, "labellings.csv", 2, "kind", "'public' is not a kind of owner")


def test_labelling_unknown_owner(case_dir):
    _labelled(case_dir, "x,gamma,government,\n")
    expect(case_dir, "labellings.csv", 2, "owner", "unknown owner 'gamma'")


def test_labelling_the_same_owner_twice(case_dir):
    _labelled(case_dir, "x,alpha,government,\nx,alpha,,autos\n")
    expect(case_dir, "labellings.csv", 3, "owner", "x:alpha", "more than once")


def test_labelling_may_name_the_implicit_government_but_not_make_it_a_company(case_dir):
    assert not load_case(_labelled(case_dir, "x,government,government,\n")).warnings
    expect(_labelled(case_dir, "x,government,company,autos\n"), "labellings.csv", 2, "kind", "is of kind government")


@pytest.mark.parametrize(
    "row",
    ["x,alpha,government,autos", "x,gov_bank,,autos", "x,government,,chip_exports"],
    ids=["becomes-government", "is-government", "the-government"],
)
def test_labelling_sectors_of_a_government_owner_are_a_warning(case_dir, row):
    case = load_case(_labelled(case_dir, row + "\n"))
    (w,) = case.warnings
    assert (w.file, w.row, w.column, w.level) == ("labellings.csv", 2, "sectors", "warning")
    assert "cares about every sector" in w.message


# ----------------------------------------------------------------------------------
# all problems at once
# ----------------------------------------------------------------------------------


def test_many_problems_reported_at_once(case_dir):
    lever_row = find_row(case_dir, "levers.csv", lever="chips")
    set_cell(case_dir, "levers.csv", lever_row, "public_share", "1.5")
    sector_row = find_row(case_dir, "sectors.csv", sector="autos")
    set_cell(case_dir, "sectors.csv", sector_row, "exports_usd_bn", "ten")
    rate_row = find_row(case_dir, "tariffs.csv", scenario="hard", track="semis", tier="s1")
    set_cell(case_dir, "tariffs.csv", rate_row, "rate", "0%")
    edit_yaml(case_dir, first_year="soon")
    problems = problems_of(case_dir)
    places = {(p.file, p.row, p.column) for p in problems}
    assert ("levers.csv", lever_row, "public_share") in places
    assert ("sectors.csv", sector_row, "exports_usd_bn") in places
    assert ("tariffs.csv", rate_row, "rate") in places
    assert ("case.yaml", None, "first_year") in places
    assert len(problems) >= 4


def test_a_missing_file_does_not_hide_the_problems_of_other_tables(case_dir):
    """'All problems at once': one missing or unreadable file must not stop the cell
    checks of the tables that were read, or the planner fixes the case in several passes."""
    (case_dir / "budget.csv").unlink()
    row = find_row(case_dir, "levers.csv", lever="smelter")
    set_cell(case_dir, "levers.csv", row, "capex_per_module", "-4")
    places = {(p.file, p.row, p.column) for p in problems_of(case_dir)}
    assert ("budget.csv", None, None) in places
    assert ("levers.csv", row, "capex_per_module") in places, places


def test_broken_yaml_does_not_hide_the_problems_of_the_tables(case_dir):
    (case_dir / "case.yaml").write_text("name: [tiny\n", encoding="utf-8")
    row = find_row(case_dir, "sectors.csv", sector="autos")
    set_cell(case_dir, "sectors.csv", row, "growth_rate", "-2")
    places = {(p.file, p.row, p.column) for p in problems_of(case_dir)}
    assert any(f == "case.yaml" for f, _, _ in places)
    assert ("sectors.csv", row, "growth_rate") in places, places


def test_many_cross_table_problems_reported_at_once(case_dir):
    set_cell(case_dir, "scenarios.csv", find_row(case_dir, "scenarios.csv", scenario="deal"), "probability", "0.7")
    drop_rows(case_dir, "budget.csv", year="2026")
    row = find_row(case_dir, "contributions.csv", lever="lng")
    set_cell(case_dir, "contributions.csv", row, "lever", "gas")
    files = {p.file for p in problems_of(case_dir)}
    assert {"scenarios.csv", "budget.csv", "contributions.csv"} <= files


def test_case_error_message_lists_every_problem(case_dir):
    set_cell(case_dir, "levers.csv", 2, "public_share", "2")
    set_cell(case_dir, "sectors.csv", 2, "growth_rate", "-3")
    with pytest.raises(CaseError) as info:
        load_case(case_dir)
    text = str(info.value)
    assert "levers.csv, row 2, column public_share" in text
    assert "sectors.csv, row 2, column growth_rate" in text


def test_from_tables_runs_the_same_validation():
    case = load_case(TINY)
    tables = {n: df.drop(columns=["_row"], errors="ignore") for n, df in case.tables.items()}
    again = Case.from_tables(case.meta, tables)
    assert again.sha256() == case.sha256()
    bad = dict(tables)
    bad["levers"] = tables["levers"].assign(public_share=[0.5, 1.0, 7.0])
    with pytest.raises(CaseError) as info:
        Case.from_tables(case.meta, bad)
    assert any(p.file == "levers.csv" and p.row == 4 and p.column == "public_share" for p in info.value.problems)


# ----------------------------------------------------------------------------------
# the .xlsx form
# ----------------------------------------------------------------------------------


def write_workbook(folder: Path, path: Path, skip: tuple[str, ...] = ()) -> Path:
    meta = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        if "case" not in skip:
            pd.DataFrame({"field": list(meta), "value": list(meta.values())}).to_excel(
                xl, sheet_name="case", index=False
            )
        for csv_path in sorted(folder.glob("*.csv")):
            if csv_path.stem in skip:
                continue
            pd.read_csv(csv_path).to_excel(xl, sheet_name=csv_path.stem, index=False)
    return path


def _solve(case):
    from relief.model.core.options import SolveOptions
    from relief.model.core.run import run_case

    return run_case(case, SolveOptions.resolve(case.meta, mip_gap=0))


def test_solve_options_built_directly_are_usable():
    """SolveOptions' fields default to None ("use relief's default"); a plain
    SolveOptions(mip_gap=0) must solve, not crash on int(None) for the seed."""
    from relief.model.core.options import SolveOptions
    from relief.model.core.run import run_case

    result = run_case(load_case(TINY), SolveOptions(mip_gap=0))
    assert result.status == "optimal"
    assert result.evaluation.expected_relief == pytest.approx(TINY_RELIEF, rel=1e-9)


def test_workbook_loads_and_solves_like_the_folder(tmp_path):
    book = write_workbook(TINY, tmp_path / "tiny.xlsx")
    from_book = load_case(book)
    from_folder = load_case(TINY)
    assert from_book.name == "tiny"
    assert from_book.sha256() == from_folder.sha256()  # the hash ignores the file format
    result = _solve(from_book)
    assert result.status == "optimal"
    assert result.evaluation.expected_relief == pytest.approx(TINY_RELIEF, rel=1e-9)
    assert result.evaluation.expected_relief == pytest.approx(_solve(from_folder).evaluation.expected_relief, rel=1e-9)


@pytest.mark.parametrize("sheet", ["tariffs", "levers", "case"])
def test_workbook_missing_sheet(tmp_path, sheet):
    book = write_workbook(TINY, tmp_path / "tiny.xlsx", skip=(sheet,))
    problems = problems_of(book)
    assert any(sheet in p.file and "tiny.xlsx" in p.file and "missing" in p.message for p in problems), problems


def test_workbook_bad_cell_names_sheet_row_column(tmp_path):
    book = write_workbook(TINY, tmp_path / "tiny.xlsx")
    sheets = pd.read_excel(book, sheet_name=None)
    sheets["levers"].loc[1, "public_share"] = 3.0  # chips, spreadsheet row 3
    with pd.ExcelWriter(book, engine="openpyxl") as xl:
        for name, df in sheets.items():
            df.to_excel(xl, sheet_name=name, index=False)
    problems = problems_of(book)
    assert any(
        "levers" in p.file and p.row == 3 and p.column == "public_share" and "out of range" in p.message
        for p in problems
    ), problems


def test_not_a_workbook(tmp_path):
    book = tmp_path / "broken.xlsx"
    book.write_bytes(b"this is not a zip file")
    problems = problems_of(book)
    assert any("broken.xlsx" in p.file and "workbook" in p.message for p in problems)


# ----------------------------------------------------------------------------------
# parameter paths: apply_overrides
# ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    return load_case(TINY)


def col(case, table, column, **key):
    df = case.table(table)
    for k, v in key.items():
        df = df[df[k] == v]
    assert len(df) == 1
    return df[column].iloc[0]


def test_set_one_cell(tiny):
    out = apply_overrides(tiny, ["levers.chips.capex_per_module=3"])
    assert col(out, "levers", "capex_per_module", lever="chips") == 3
    assert col(out, "levers", "capex_per_module", lever="smelter") == 4
    assert col(tiny, "levers", "capex_per_module", lever="chips") == 2  # the original is untouched


def test_star_sets_every_row(tiny):
    out = apply_overrides(tiny, ["budget.*.public_budget_usd_bn=7"])
    assert list(out.table("budget")["public_budget_usd_bn"]) == [7, 7]


def test_star_equals_scales(tiny):
    out = apply_overrides(tiny, ["levers.*.capex_per_module*=1.5"])
    assert list(out.table("levers")["capex_per_module"]) == pytest.approx([6, 3, 0.75])
    assert list(tiny.table("levers")["capex_per_module"]) == pytest.approx([4, 2, 0.5])


def test_composite_key(tiny):
    out = apply_overrides(tiny, ["tariffs.deal:general:t1:autos.rate=0.1"])
    t = out.table("tariffs")
    assert col(out, "tariffs", "rate", scenario="deal", track="general", tier="t1", sector="autos") == pytest.approx(
        0.1
    )
    assert col(out, "tariffs", "rate", scenario="hard", track="general", tier="t1", sector="autos") == pytest.approx(
        0.2
    )
    assert (t["rate"] != tiny.table("tariffs")["rate"]).sum() == 1


def test_composite_key_with_stars_scales(tiny):
    out = apply_overrides(tiny, ["tariffs.*:general:*:*.rate*=2"])
    before, after = tiny.table("tariffs"), out.table("tariffs")
    general = before["track"] == "general"
    assert list(after.loc[general, "rate"]) == pytest.approx(list(before.loc[general, "rate"] * 2))
    assert list(after.loc[~general, "rate"]) == pytest.approx(list(before.loc[~general, "rate"]))


def test_three_part_key(tiny):
    out = apply_overrides(tiny, ["pillar_weights.hard:semis:semis.weight=2"])
    assert col(out, "pillar_weights", "weight", scenario="hard", track="semis", pillar="semis") == 2
    assert col(out, "pillar_weights", "weight", scenario="deal", track="semis", pillar="semis") == 1


def test_integer_key_year(tiny):
    out = apply_overrides(tiny, ["budget.2027.public_budget_usd_bn=1.5"])
    assert col(out, "budget", "public_budget_usd_bn", year=2027) == 1.5
    assert col(out, "budget", "public_budget_usd_bn", year=2026) == 3


def test_overrides_apply_in_order(tiny):
    out = apply_overrides(tiny, ["levers.chips.capex_per_module=3", "levers.*.capex_per_module*=2"])
    assert col(out, "levers", "capex_per_module", lever="chips") == 6


def test_bool_and_int_columns(tiny):
    out = apply_overrides(tiny, ["levers.lng.integer=false", "levers.chips.lead_time_years=2"])
    assert bool(col(out, "levers", "integer", lever="lng")) is False
    assert col(out, "levers", "lead_time_years", lever="chips") == 2


def test_case_field(tiny):
    out = apply_overrides(tiny, ["case.total_public_budget=10", "case.discount_rate=0.05", "case.last_year=2027"])
    assert out.meta["total_public_budget"] == 10
    assert out.meta["discount_rate"] == pytest.approx(0.05)
    assert tiny.meta["total_public_budget"] == 5


def test_case_field_scaled(tiny):
    out = apply_overrides(tiny, ["case.total_public_budget*=0.5"])
    assert out.meta["total_public_budget"] == pytest.approx(2.5)


def test_probability_rescales_the_other(tiny):
    out = apply_overrides(tiny, ["scenarios.deal.probability=0.9"])
    assert col(out, "scenarios", "probability", scenario="deal") == pytest.approx(0.9)
    assert col(out, "scenarios", "probability", scenario="hard") == pytest.approx(0.1)


@pytest.fixture
def three_scenarios(case_dir) -> Case:
    """tiny with a third scenario 'mid', a copy of 'hard': probabilities 0.5, 0.3, 0.2."""
    for file in ("tiers.csv", "tariffs.csv", "pillar_weights.csv", "scenarios.csv"):
        rows = read_rows(case_dir, file)
        j = rows[0].index("scenario")
        rows += [r[:j] + ["mid"] + r[j + 1 :] for r in rows[1:] if r[j] == "hard"]
        write_rows(case_dir, file, rows)
    for s, p in (("deal", "0.5"), ("hard", "0.3"), ("mid", "0.2")):
        set_cell(case_dir, "scenarios.csv", find_row(case_dir, "scenarios.csv", scenario=s), "probability", p)
    return load_case(case_dir)


def test_probability_rescales_others_proportionally(three_scenarios):
    out = apply_overrides(three_scenarios, ["scenarios.deal.probability=0.8"])
    p = dict(zip(out.table("scenarios")["scenario"], out.table("scenarios")["probability"]))
    assert p["deal"] == pytest.approx(0.8)
    assert p["hard"] == pytest.approx(0.12)  # 0.3 * 0.2 / 0.5
    assert p["mid"] == pytest.approx(0.08)
    assert sum(p.values()) == pytest.approx(1.0)


def test_probability_scaled_rescales_others(three_scenarios):
    out = apply_overrides(three_scenarios, ["scenarios.mid.probability*=2"])
    p = dict(zip(out.table("scenarios")["scenario"], out.table("scenarios")["probability"]))
    assert p["mid"] == pytest.approx(0.4)
    assert p["deal"] / p["hard"] == pytest.approx(0.5 / 0.3)
    assert sum(p.values()) == pytest.approx(1.0)


def test_two_probabilities_set_the_rest_rescales(three_scenarios):
    out = apply_overrides(three_scenarios, ["scenarios.deal.probability=0.6", "scenarios.hard.probability=0.4"])
    p = dict(zip(out.table("scenarios")["scenario"], out.table("scenarios")["probability"]))
    assert p == pytest.approx({"deal": 0.6, "hard": 0.4, "mid": 0.0})


def test_probability_one_zeroes_others(tiny):
    out = apply_overrides(tiny, ["scenarios.hard.probability=1"])
    p = dict(zip(out.table("scenarios")["scenario"], out.table("scenarios")["probability"]))
    assert p == pytest.approx({"deal": 0.0, "hard": 1.0})


@pytest.mark.parametrize(
    "text,words",
    [
        ("nosuch.x.rate=1", ["no table", "nosuch"]),
        ("levers.chips.colour=1", ["no settable column", "colour"]),
        ("levers.chips.lever=x", ["no settable column"]),  # keys are not settable
        ("levers.steel.capex_per_module=1", ["no row", "steel"]),
        ("tariffs.deal:general:t9:autos.rate=0.1", ["no row"]),
        ("tariffs.deal.rate=0.1", ["part"]),
        ("tariffs.deal:general:t1:autos:2026:x.rate=0.1", ["part"]),
        ("tariffs.deal:general:t1:autos:2027.rate=0.1", ["no row"]),
        ("levers.capex_per_module=1", ["levers.LEVER.COLUMN"]),
        ("levers.chips.capex_per_module=abc", ["not a number"]),
        ("levers.chips.capex_per_module*=abc", ["not a number"]),
        ("levers.chips.capex_per_module=12%", ["percentage"]),
        ("levers.chips.lead_time_years=1.5", ["whole number"]),
        ("levers.chips.integer=perhaps", ["true or false"]),
        ("sectors.autos.track*=2", ["only numbers"]),
        ("case.colour=blue", ["no field", "colour"]),
        ("case.first_year=soon", ["not a number"]),
        ("levers.chips.capex_per_module", ["PATH=VALUE"]),
        ("levers.chips.capex_per_module=", ["value"]),
        ("=3", ["path"]),
        ("case.time_limit*=2", ["not set"]),
    ],
)
def test_override_errors(tiny, text, words):
    with pytest.raises(OverrideError) as info:
        apply_overrides(tiny, [text])
    msg = str(info.value)
    for w in words:
        assert w.lower() in msg.lower(), msg


@pytest.mark.parametrize(
    "text,words",
    [
        ("levers.chips.public_share=2", ["invalid", "levers.csv", "public_share"]),
        ("scenarios.deal.probability=1.5", ["1.5"]),
        ("case.last_year=2020", ["invalid", "last_year"]),
        ("levers.*.min_modules=3", ["invalid", "min_modules"]),
        ("case.last_year=2028", ["invalid", "budget", "2028"]),
    ],
)
def test_overrides_that_make_the_case_invalid(tiny, text, words):
    with pytest.raises(OverrideError) as info:
        apply_overrides(tiny, [text])
    msg = str(info.value)
    for w in words:
        assert w.lower() in msg.lower(), msg


def test_no_overrides_returns_the_case(tiny):
    assert apply_overrides(tiny, []) is tiny


def test_overridden_case_solves_to_the_hand_answer(tiny):
    # a budget doubled everywhere cannot lower the optimum; halving chips' capex keeps it
    out = apply_overrides(tiny, ["budget.*.public_budget_usd_bn*=2", "case.total_public_budget*=2"])
    assert _solve(out).evaluation.expected_relief >= TINY_RELIEF - 1e-9


def test_overrides_recheck_the_solver_range_only_when_coefficients_change(monkeypatch):
    """An override of a budget or limit cannot change the model's coefficients, so the
    (costly) range rule is skipped; one of exports or growth re-checks it."""
    from relief.model.core import case as case_module
    from relief.model.core.overrides import OverrideError, apply_overrides

    base = load_case(Path(__file__).resolve().parents[1] / "examples" / "tiny")
    calls = []
    real = case_module.rule_solver_range
    monkeypatch.setattr(case_module, "rule_solver_range", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(
        case_module,
        "CROSS_RULES",
        tuple(case_module.rule_solver_range if r is real else r for r in case_module.CROSS_RULES),
    )
    apply_overrides(base, ["case.total_public_budget=4", "budget.2026.public_budget_usd_bn=2"])
    assert calls == []
    with pytest.raises(OverrideError, match="reaches"):
        apply_overrides(base, ["sectors.autos.exports_usd_bn=9e8", "sectors.autos.growth_rate=1e5"])
    assert calls == [1]
