"""One stock project per settings variant and test module; its log on every failure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dropin.harness import WITH_VALIDATOR, WITHOUT_VALIDATOR, DropIn, run_dropin


@pytest.fixture(scope="module")
def dropin() -> Iterator[DropIn]:
    """The stock project with our validator and backend."""
    with run_dropin(WITH_VALIDATOR) as project:
        yield project


@pytest.fixture(scope="module")
def dropin_without_validator() -> Iterator[DropIn]:
    """The same project with DOT's default validator and backend."""
    with run_dropin(WITHOUT_VALIDATOR) as project:
        yield project


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the server's log to a failed test's report: the error is usually there."""
    report = yield
    if report.failed:
        for name in ("dropin", "dropin_without_validator"):
            project = getattr(item, "funcargs", {}).get(name)
            if project is not None:
                report.sections.append((f"{name} server log", project.log()))
    return report
