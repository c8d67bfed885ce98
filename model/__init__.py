"""relief.model: load and validate a case, build the MILP, solve it, evaluate a plan."""
