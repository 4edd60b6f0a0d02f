"""`python -m oxinfra` runs the CLI."""

from oxinfra.cli import main

main()
