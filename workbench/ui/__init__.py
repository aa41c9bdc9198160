"""Panel pieces shared by every dashboard: template, device badge, status and
progress, export buttons, and the latest-request-wins runner for long work."""

from .export import ExportButtons
from .layout import ACCENT, Status, app_template, device_badge
from .share import ShareState, apply_state, state_of
from .tasks import EXECUTOR, LatestRunner, in_server

__all__ = ["ACCENT", "EXECUTOR", "ExportButtons", "LatestRunner", "ShareState", "Status", "app_template",
           "apply_state", "device_badge", "in_server", "state_of"]
