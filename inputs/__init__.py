"""Case data shipped with relief: the default Korea case (korea-2026/)."""
