"""Each model as the app runs it, one module per model (``core/serving/<model>.py``, beside ``models/``,
``training/`` and ``evaluation/``): the pipeline that pages, evaluation and benchmarks all call.

Importing this package loads nothing; TensorFlow loads with the module of a model that is run."""
