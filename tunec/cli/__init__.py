"""``ray.tune.cli`` (Ray 1.x/2.x moved the `tune` command here): the same
objects as tunec.commands and tunec.scripts."""
