"""Panel pieces shared by every dashboard: the :class:`Explorer` base, template, device badge,
status and progress, export buttons, shareable state, and the fair, newest-request-wins runner."""

from .explorer import Explorer
from .export import ExportButtons
from .layout import ACCENT, Status, app_template, device_badge
from .share import ShareState, apply_state, check_state, state_of
from .tasks import LatestRunner, in_server
from .text import as_text

__all__ = ["ACCENT", "Explorer", "ExportButtons", "LatestRunner", "ShareState", "Status", "app_template",
           "apply_state", "as_text", "check_state", "device_badge", "in_server", "state_of"]
