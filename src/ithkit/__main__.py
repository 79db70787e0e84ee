"""``python -m ithkit``: the same command line as ``ithkit``."""

from ithkit.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
