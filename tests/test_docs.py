"""Documents generated from code stay equal to what the code generates."""

from pathlib import Path

from relief.model.core.schema import reference_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_inputs_reference_is_generated_from_the_schema():
    """docs/inputs.md is `reference_markdown()`; regenerate it with
    python -c "from relief.model.core.schema import reference_markdown as r; open('docs/inputs.md','w').write(r())" """
    assert (ROOT / "docs" / "inputs.md").read_text(encoding="utf-8") == reference_markdown()
