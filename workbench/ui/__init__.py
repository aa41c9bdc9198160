"""Panel pieces shared by every dashboard: template, device badge, status and
progress, export buttons, and the latest-request-wins runner for long work."""

from .export import ExportButtons
from .layout import ACCENT, Status, app_template, device_badge
from .tasks import EXECUTOR, LatestRunner, in_server

__all__ = ["ACCENT", "EXECUTOR", "ExportButtons", "LatestRunner", "Status", "app_template",
           "device_badge", "in_server"]
