"""toxlab.grading.wire: what crosses from the student's process to the checker."""

import numpy as np
import pytest

from toxlab.grading import wire


def test_numpy_string_keys_cross_as_plain_strings():
    """np.unique over a list of terms gives numpy str_ keys; a correct answer built on it must not be refused."""
    plain = wire.to_plain({np.str_("gay"): 0.5, "muslim": float("nan")})
    back = wire.from_plain(plain)
    assert list(back) == ["gay", "muslim"] and all(type(k) is str for k in back)
    assert back["gay"] == 0.5 and np.isnan(back["muslim"])


@pytest.mark.parametrize("key", [1, 2.5, ("a",), None])
def test_keys_that_are_not_strings_are_refused(key):
    with pytest.raises(wire.WireError, match="dict keys must be strings"):
        wire.to_plain({key: 1})
