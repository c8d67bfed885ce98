"""Risk attitudes: what stage 1 maximises, and the same measure re-computed from a plan.

- expected: the probability-weighted relief (the default);
- cvar:ALPHA:WEIGHT: (1 - WEIGHT) x expected relief + WEIGHT x CVaR_ALPHA, where CVaR_ALPHA
  is the expected relief in the worst (1 - ALPHA) of probability (ALPHA = 0.8: the worst
  20%). In the model (Rockafellar and Uryasev's linear form, for a quantity to maximise):
      CVaR = max_eta  eta - 1/(1 - ALPHA) sum_s p_s u_s,   u_s >= eta - R_s,  u_s >= 0;
- worst: the relief of the worst scenario, max w with w <= R_s for every s.

`measure_value` computes the same numbers from the relief of each scenario by sorting, not
by the linear programme, so that the solver's answer can be checked independently.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Risk:
    kind: str = "expected"  # expected | cvar | worst
    alpha: float = 0.8
    weight: float = 0.0

    @staticmethod
    def parse(text: str | None) -> Risk:
        """'expected', 'worst' or 'cvar:ALPHA:WEIGHT' (e.g. cvar:0.8:0.5)."""
        if text is None or str(text).strip() in ("", "expected"):
            return Risk()
        t = str(text).strip().lower()
        if t == "worst":
            return Risk("worst", 1.0, 1.0)
        parts = t.split(":")
        if parts[0] != "cvar" or len(parts) != 3:
            raise ValueError(
                f"--risk {text!r}: expected 'expected', 'worst' or 'cvar:ALPHA:WEIGHT' (e.g. cvar:0.8:0.5)"
            )
        try:
            alpha, weight = float(parts[1]), float(parts[2])
        except ValueError:
            raise ValueError(f"--risk {text!r}: ALPHA and WEIGHT must be numbers (e.g. cvar:0.8:0.5)") from None
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"--risk {text!r}: ALPHA must be in [0, 1) (0.8 = the worst 20% of probability)")
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"--risk {text!r}: WEIGHT must be in [0, 1] (0 = expected relief only, 1 = CVaR only)")
        return Risk("cvar", alpha, weight)

    @staticmethod
    def of_case(meta: dict) -> Risk:
        kind = meta.get("risk_measure") or "expected"
        if kind == "worst":
            return Risk("worst", 1.0, 1.0)
        if kind == "cvar":
            return Risk("cvar", float(meta.get("risk_alpha", 0.8)), float(meta.get("risk_weight", 0.5)))
        return Risk()

    def overrides(self) -> list[str]:
        """The --set strings that put this risk attitude into a case."""
        out = [f"case.risk_measure={self.kind}"]
        if self.kind == "cvar":
            out += [f"case.risk_alpha={self.alpha!r}", f"case.risk_weight={self.weight!r}"]
        return out

    @property
    def in_model(self) -> bool:
        """Whether the model needs the risk rows (not for plain expected relief)."""
        return self.kind != "expected"

    def label(self) -> str:
        return {"expected": "expected relief", "worst": "worst-scenario relief"}.get(
            self.kind, f"{1 - self.weight:g} x expected + {self.weight:g} x CVaR{self.alpha:g}"
        )

    def spec(self) -> str:
        return self.kind if self.kind != "cvar" else f"cvar:{self.alpha:g}:{self.weight:g}"


def cvar(values: dict, probability: dict, alpha: float) -> float:
    """Expected value over the worst (1 - alpha) of probability, by sorting: the scenarios
    from the lowest relief up fill the tail, the last one only in part."""
    tail = 1.0 - alpha
    if tail <= 0:
        return min(values.values())
    left, total = tail, 0.0
    for s in sorted(values, key=lambda s: (values[s], s)):
        take = min(probability.get(s, 0.0), left)
        total += take * values[s]
        left -= take
        if left <= 1e-15:
            break
    return total / tail


def distribution(values: dict, probability: dict, alpha: float = 0.8) -> dict:
    """What a planner reads about the spread of relief across scenarios."""
    if not values:
        return {}
    mean = sum(probability.get(s, 0.0) * v for s, v in values.items())
    var = sum(probability.get(s, 0.0) * (v - mean) ** 2 for s, v in values.items())
    worst = min(values, key=lambda s: (values[s], s))
    best = max(values, key=lambda s: (values[s], s))
    return {
        "expected": mean,
        "worst": values[worst],
        "worst_scenario": worst,
        "best": values[best],
        "best_scenario": best,
        "std": var**0.5,
        f"cvar_{alpha:g}": cvar(values, probability, alpha),
    }


def measure_value(risk: Risk, values: dict, probability: dict) -> float:
    """The stage-1 objective of a plan whose relief by scenario is `values`."""
    expected = sum(probability.get(s, 0.0) * v for s, v in values.items())
    if risk.kind == "expected":
        return expected
    if risk.kind == "worst":
        return min(values.values())
    return (1.0 - risk.weight) * expected + risk.weight * cvar(values, probability, risk.alpha)
