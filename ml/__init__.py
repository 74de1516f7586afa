"""Machine learning: features, IsolationForest anomalies, a Keras LSTM for failure probability
and remaining useful life, the model registry, training and evaluation.

Model code takes DataFrames and imports neither web code nor the database; only
``registry``, ``scoring`` and the CLIs touch ``data``. TensorFlow is imported lazily.
"""
