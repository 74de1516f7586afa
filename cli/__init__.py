"""The command-line tools beside ``app.py``: composition roots that read the settings, open
the database and hand data and folders to the model layer.

python -m cli.train       # train the models, register them, --promote to activate
python -m cli.evaluate    # held-out quality beside a same-run baseline
"""
