"""The model-health page's figures before the first drift check: a note, not bare axes."""

from __future__ import annotations

import pandas as pd

from web.views.model_health import distributions_figure, heatmap_figure


def test_before_any_drift_check_the_figures_say_so_without_axes():
    empty = pd.DataFrame(columns=["feature", "kind", "checked_at", "psi"])
    for figure, text in (
        (heatmap_figure(empty, 0.2), "No drift checks of this type yet"),
        (distributions_figure([]), "No distributions to compare yet"),
    ):
        layout = figure["layout"]
        assert figure["data"] == []
        assert [a["text"] for a in layout["annotations"]] == [text]
        assert layout["xaxis"]["visible"] is False and layout["yaxis"]["visible"] is False
