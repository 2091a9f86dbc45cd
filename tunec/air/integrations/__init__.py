"""``ray.air.integrations`` (Ray 2.x): the same objects as
``tunec.integration``'s."""
