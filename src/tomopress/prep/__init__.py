"""Projection preparation, per slab of detector rows: flat and dark fields, zingers, dead
pixels, ``-ln``, ring (stripe) removal; and the rotation centre."""
