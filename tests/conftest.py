import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests' own helpers: notebook_factory, autograde_harness

from autograde_harness import GradingCourse  # noqa: E402


@pytest.fixture(scope="session")
def grading_course(tmp_path_factory):
    """One throwaway nbgrader course for the whole session (assignments generated on first use)."""
    return GradingCourse(tmp_path_factory.mktemp("grading_course"))


# Test files that start kernels, nbgrader, servers or a browser: `./run test -m "not slow"` leaves them out.
SLOW = {"test_01_initialization_grading.py", "test_02_forward_grading.py", "test_03_backward_grading.py",
        "test_03_chain_rule_judged.py", "test_04_optimization_grading.py", "test_05_iris_softmax_grading.py",
        "test_attacks.py", "test_benchmarks.py", "test_forkserver.py", "test_browser.py", "test_check.py", "test_cluster.py",
        "test_colab_stack.py", "test_demo.py", "test_formgrader_browser.py", "test_grade.py", "test_grade_lms.py",
        "test_judge_remote.py", "test_release.py"}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: starts kernels, nbgrader, servers or a browser (see tests/conftest.py)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW:
            item.add_marker(pytest.mark.slow)
