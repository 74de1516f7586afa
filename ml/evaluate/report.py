"""The evaluation as a table people read: each metric with the model, the same-run baseline
and (when limits are known) the threshold rules side by side."""

from __future__ import annotations

import math

from ml.trees import columns_text

__all__ = ["table"]

_ROWS = (
    ("failures caught ≥ min lead (recall)", "recall", "{:.1%}"),
    ("alarm precision (failure within H)", "precision", "{:.1%}"),
    ("median lead", "median_lead_h", "{:.2f} h"),
    ("false alarms per unit-week", "false_alarms_per_unit_week", "{:.2f}"),
    ("RUL RMSE (truth capped)", "rul_rmse_h", "{:.2f} h"),
    ("RUL MAE (truth capped)", "rul_mae_h", "{:.2f} h"),
    ("RUL RMSE, last 2 h before failure", "rul_rmse_last2h_h", "{:.2f} h"),
    ("RUL RMSE at each unit's last reading", "rul_rmse_at_last_h", "{:.2f} h"),
)


def _fmt(value: object, pattern: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return pattern.format(value)


def table(r: dict, setup: dict) -> str:
    """Setup lines, then metric | model | baseline | rules."""
    p = setup["params"]
    lines = [
        f"training data   {setup['train']}",
        f"test data       {setup['test']}",
        f"model           {r['family']} (window {p.window} steps of {p.step_s:g} s, "
        f"H = {p.horizon_h:g} h, RUL cap {p.rul_cap_h:g} h, seed {p.seed}; "
        f"forest probability from its {p.probability_source}; "
        f"alarm at {_fmt(r.get('alarm_threshold'), '{:.2f}')}, baseline's at 0.80 unless asked)",
        f"training time   {_fmt(r.get('train_s'), '{:.1f} s')} "
        f"(baseline {_fmt(r.get('baseline_train_s'), '{:.1f} s')}), "
        f"peak RSS {r['peak_rss_mb']:.0f} MB",
    ]
    if setup.get("horizon"):
        tried = "; ".join(
            f"{h} h: {_fmt(m['recall'], '{:.0%}')} / {_fmt(m['precision'], '{:.0%}')}"
            f"{' (' + m['source'] + ')' if m.get('source') else ''}"
            f"{' at ' + format(m['threshold'], 'g') if m.get('threshold') else ''}"
            for h, m in setup["horizon"].items()
        )
        lines.append(f"horizon choice  recall / precision out of fold: {tried}")
    if r.get("tree_columns"):
        seen = columns_text(r["tree_columns"])
        lines.append(f"forest columns  {seen} (chosen out of fold, training units)")
    if setup.get("choice"):
        lines.append(f"family choice   {setup['choice']}")
    counts = (
        f"failures scorable {r.get('failures')} of {r.get('failures_in_data')}; "
        f"alarms {r.get('raised')} (true {r.get('true_raises')}); windows {r.get('windows')}"
    )
    lines += [counts, ""]
    rules = "rules_recall" in r
    head = f"{'':<40}{'model':>12}{'baseline':>12}" + (f"{'rules':>12}" if rules else "")
    lines.append(head)
    for label, key, pattern in _ROWS:
        if key not in r and f"baseline_{key}" not in r:
            continue
        row = f"{label:<40}{_fmt(r.get(key), pattern):>12}"
        row += f"{_fmt(r.get('baseline_' + key), pattern):>12}"
        if rules:
            row += f"{_fmt(r.get('rules_' + key), pattern):>12}"
        lines.append(row)
    lines += _by_mode(r, rules)
    lines.append(
        f"{'anomaly ROC-AUC (IsolationForest)':<40}{_fmt(r.get('anomaly_auc'), '{:.3f}'):>12}"
    )
    if "failure_auc" in r:
        lines.append(
            f"{'failure-label ROC-AUC (oracle ceiling)':<40}{_fmt(r['failure_auc'], '{:.3f}'):>12}"
            f"  ({_fmt(r['failure_auc_ceiling'], '{:.3f}')})"
        )
    return "\n".join(lines)


def _by_mode(r: dict, rules: bool) -> list[str]:
    """With the failures' modes given: each mode's failures caught ≥ min lead, of those
    scorable, by the model, the baseline and the rules."""
    sources = ("", "baseline_", "rules_") if rules else ("", "baseline_")
    modes = sorted({m for s in sources for m in r.get(f"{s}caught_by_mode") or {}})
    lines = []
    for mode in modes:
        row = f"{'  caught, ' + mode:<40.40}"
        for source in sources:
            caught, counted = (r.get(f"{source}caught_by_mode") or {}).get(mode, (0, 0))
            row += f"{f'{caught} of {counted}':>12}"
        lines.append(row)
    return lines
