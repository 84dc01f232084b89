"""Entry point of every pytest_test target: runs pytest on the given files."""

import sys

import pytest

if __name__ == "__main__":
    sys.exit(
        pytest.main(
            [*sys.argv[1:], "-q", "-p", "no:cacheprovider", "-W", "error::pytest.PytestUnraisableExceptionWarning"]
        )
    )
