"""relief.cli: the `relief` command line."""
