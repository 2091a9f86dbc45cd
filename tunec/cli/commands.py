"""``ray.tune.cli.commands``: tunec.commands under Ray 2.x's path."""
from tunec.commands import (  # noqa: F401  (re-exported names)
    DEFAULT_CLI_KEYS, DEFAULT_PROJECT_INFO_KEYS, OPERATORS, TIMESTAMP_FORMAT, ClickException,
    add_note, list_experiments, list_trials, print_format_output)
