"""Domains (package layout or configured globs) and test-code detection."""

from __future__ import annotations

import pytest

from dupfind.config import Config
from dupfind.domains import domain_map, is_test_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_x.py", True),
        ("pkg/test_x.py", True),
        ("pkg/x_test.py", True),
        ("conftest.py", True),
        ("src/app/testing/factories.py", True),
        ("test/helpers.py", True),
        ("pkg/x.py", False),
        ("pkg/testament.py", False),
        ("pkg/contest.py", False),
        ("src/latest/x.py", False),
    ],
)
def test_test_code_is_recognised_by_the_usual_conventions(path: str, expected: bool) -> None:
    assert is_test_path(path) is expected


@pytest.mark.parametrize(
    ("roots", "path", "expected"),
    [
        (["."], "src/billing/invoices.py", "billing"),
        (["."], "src/billing/pdf/render.py", "billing"),
        (["."], "billing/invoices.py", "billing"),
        (["project"], "project/setup.py", "project"),  # a root module: the root's domain
        (["project"], "project/src/shipping/labels.py", "shipping"),
        (["project"], "project/tools/release.py", "tools"),
        (["project", "project/vendor"], "project/vendor/lib/x.py", "lib"),
        (["."], "services/api/src/orders/views.py", "orders"),
    ],
)
def test_the_domain_is_the_top_level_package(roots: list[str], path: str, expected: str) -> None:
    assert domain_map(Config(), roots).domain(path) == expected


def test_configured_domains_come_first_in_their_order() -> None:
    config = Config.from_mapping(
        {"domains": {"payments": ["src/billing/stripe_*.py"], "legacy": ["**/old/**"]}}
    )
    domains = domain_map(config, ["."])
    assert domains.domain("src/billing/stripe_hooks.py") == "payments"
    assert domains.domain("src/billing/old/invoices.py") == "legacy"
    assert domains.domain("src/billing/invoices.py") == "billing"


def test_the_first_matching_entry_wins_as_written_not_alphabetically() -> None:
    """README: "the first matching entry of [tool.dupfind.domains]"; a specific entry written
    before a catch-all must win even when its name sorts after the catch-all's."""
    config = Config.from_mapping(
        {"domains": {"payments": ["src/app/billing/stripe/**"], "app": ["src/app/**"]}}
    )
    domains = domain_map(config, ["."])
    assert domains.domain("src/app/billing/stripe/hooks.py") == "payments"
    assert domains.domain("src/app/billing/invoices.py") == "app"
