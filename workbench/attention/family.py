"""The Transformer attention family's declaration (see :mod:`workbench.family`)."""

from ..family import Dashboard, Family

FAMILY = Family(
    name="attention",
    title="Transformer attention",
    cli="workbench.attention.cli:register",
    imports=("workbench.attention.widget",),
    dashboards=(
        Dashboard(
            slug="attention_maps",
            title="Attention maps",
            description=("Attention of a real pretrained transformer (all-MiniLM-L6-v2, offline): every layer and head, a "
                         "head view, efficient variants (window, FWin, SEMA-like, linear) against full attention, and "
                         "dispersion with sequence length."),
            explorer="workbench.attention.widget:AttentionExplorer",
            thumbnail=("?text=The+cat+sat+on+the+mat+because+it+was+warm.", None, "tokens"),
            quick={"text": "The cat sat."},
        ),
    ),
)
