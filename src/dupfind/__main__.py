"""``python -m dupfind``."""

from dupfind.cli import main

main()
