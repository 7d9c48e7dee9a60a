import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests' own helpers: notebook_factory, autograde_harness

from autograde_harness import GradingCourse  # noqa: E402


@pytest.fixture(scope="session")
def grading_course(tmp_path_factory):
    """One throwaway nbgrader course for the whole session (assignments generated on first use)."""
    return GradingCourse(tmp_path_factory.mktemp("grading_course"))
