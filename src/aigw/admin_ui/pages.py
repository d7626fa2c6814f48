"""The panel's pages (navigation, titles, scripts) and how a page is rendered."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Jinja2 loads with the first admin page rendered, not in every worker
    from jinja2 import Environment

STATIC_DIR = Path(__file__).with_name("static")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the panel: its URL slug ("" for the overview), title, icon and script."""

    slug: str
    title: str
    icon: str
    script: str
    summary: str

    @property
    def path(self) -> str:
        return f"/admin/{self.slug}" if self.slug else "/admin"

    @property
    def template(self) -> str:
        return f"{self.script}.html"


NAVIGATION: tuple[Page, ...] = (
    Page("", "Overview", "gauge", "overview", "Traffic, latency, errors and cost, every replica counted"),
    Page("providers", "Providers", "server", "providers", "Circuit breakers, latency and errors of each provider"),
    Page("policy", "Policies & budgets", "shield", "policy", "Limits in force and spend against every cap"),
    Page("keys", "Keys", "key", "keys", "Virtual API keys: create, list, revoke"),
    Page("traces", "Traces", "activity", "traces", "Find a request and see where its time went"),
    Page("flags", "Flags", "flag", "flags", "Feature flags and the kill switch"),
    Page("config", "Configuration", "sliders", "config", "Every value in force and where it comes from"),
    Page("audit", "Audit log", "list", "audit", "Every change: who, when, what"),
)
TRACE_DETAIL = Page("traces", "Trace", "activity", "trace", "One request, span by span")


@functools.cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("aigw.admin_ui", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["asset_url"] = asset_url
    environment.globals["navigation"] = NAVIGATION
    return environment


@functools.cache
def asset_url(name: str) -> str:
    """The URL of a static asset, with a hash of its content so that a new version is fetched."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/admin/static/{name}?v={digest}"


def render(page: Page, **context: Any) -> str:
    """The page's HTML; `context` gives the signed-in principal, the CSRF token and the like."""
    return _environment().get_template(page.template).render(page=page, **context)
