"""The model lab: labels from the plant (the closed loop), background training and backtest
runs, scored windows for tuning thresholds, and exploration of the data the models see."""
