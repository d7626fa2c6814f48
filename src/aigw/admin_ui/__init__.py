"""The admin panel: server-rendered pages (Jinja2) and their static assets, shipped in the package.

Decisions, and why:
- One small template per page on a base layout, and one small script per page that reads the
  same JSON admin API (`/admin/api/*`) that is tested on its own: the page never holds data the
  API would not give, and what a viewer may see is decided in one place (the API's deps).
- No CDN, no Node build: plain CSS with `prefers-color-scheme`, vanilla JS, an inline SVG icon
  sprite, charts drawn as SVG by our own `chart.js`. Installing the wheel is all it takes.
- Scripts only come from files (`/admin/static/*.js`): the pages are served with a strict
  Content-Security-Policy (`default-src 'self'`, no inline script or style) and `X-Frame-Options:
  DENY`. Data is always put in the page with `textContent`, never `innerHTML`.
- Every change goes through `fetch` with the page's CSRF token in `x-csrf-token` (the edge
  accepts JSON bodies only, so there are no form posts). Viewers get every control rendered
  `disabled` with a tooltip; the server refuses their changes with 403 whatever the page does.
- Asset URLs carry a hash of the file's content (`?v=`), so they can be cached for long and a
  new version is fetched at once after an upgrade.

`pages` knows nothing of the web framework: `aigw.api.admin_pages` serves what it renders.
"""

from aigw.admin_ui.pages import NAVIGATION, STATIC_DIR, Page, asset_url, render

__all__ = ["NAVIGATION", "STATIC_DIR", "Page", "asset_url", "render"]
