"""The taxi-fare model on MLflow 3: plain modules that notebooks, CD and the local pipeline share.

* ``data``: cleaning and the time-ordered split into training and held-out trips;
* ``training``: fit the scikit-learn pipeline, log it with its dataset and register it;
* ``validation``: evaluate a registered version on held-out trips against thresholds and
  the current ``champion``, record the outcome on the version, mark it ``challenger``;
* ``deployment``: move the ``champion`` alias to a validated version;
* ``batch_inference``: score trips with the ``champion`` version, resolved once;
* ``registry``: the aliases, tags and model URIs the modules above agree on.

See docs/ml-developer-guide-mlflow3.md.
"""
