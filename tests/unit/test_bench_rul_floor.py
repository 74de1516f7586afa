"""The simulator's RUL floor (``bench.rul_floor``): exact in fault windows, each type's mean of
its healthy windows elsewhere."""

import numpy as np
import pytest

from bench.rul_floor import floor_rmse


def test_the_floor_is_exact_in_faults_and_each_types_mean_elsewhere():
    truth = np.array([24.0, 24.0, 12.0, 3.0, 24.0, 6.0])
    faulty = np.array([False, False, False, True, False, False])
    types = np.array(["pump", "pump", "pump", "pump", "fan", "fan"])
    # pump healthy: 24, 24, 12 -> mean 20, errors 4, 4, -8; fan: 24, 6 -> mean 15, errors 9, -9
    expected = np.sqrt((16 + 16 + 64 + 0 + 81 + 81) / 6)
    assert floor_rmse(truth, faulty, types) == pytest.approx(expected)


def test_no_healthy_window_means_no_error():
    truth = np.array([5.0, 1.0])
    assert floor_rmse(truth, np.array([True, True]), np.array(["a", "b"])) == 0.0
