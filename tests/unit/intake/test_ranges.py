import pytest

from tomopress.intake.ranges import parse_range, plan_slabs, slab_rows_of


def test_slabs_tile_the_range_without_gaps_or_overlap():
    slabs = plan_slabs(5, 1029, 64)
    assert slabs[0][0] == 5 and slabs[-1][1] == 1029
    assert all(a[1] == b[0] for a, b in zip(slabs, slabs[1:]))
    sizes = [b - a for a, b in slabs]
    assert max(sizes) <= 64 and max(sizes) - min(sizes) <= 1
    assert len(slabs) == 16  # ceil(1024 / 64)
    assert slab_rows_of(5, 1029, 64, 3) == slabs[3]


@pytest.mark.parametrize("text", ["10", "a:b", "5:5", "9:3", "-1:4"])
def test_bad_ranges_are_refused(text):
    with pytest.raises(ValueError, match="expected"):
        parse_range(text)
