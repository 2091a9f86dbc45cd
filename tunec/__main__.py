"""``python -m tunec COMMAND ...``: see tunec.scripts."""
import sys

from tunec.scripts import main

if __name__ == "__main__":
    sys.exit(main())
