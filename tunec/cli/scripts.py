"""``ray.tune.cli.scripts``: tunec.scripts under Ray 2.x's path (`cli`,
`main`)."""
from tunec.scripts import cli, main  # noqa: F401  (re-exported names)

if __name__ == "__main__":
    import sys
    sys.exit(main())
