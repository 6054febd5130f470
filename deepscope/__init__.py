"""DeepScope: see how deep networks train.

In a notebook: ``deepscope.show("layers", activation="relu", init="he_normal")`` shows
a live lab in the cell; ``deepscope.layers(...)``, ``deepscope.descend(...)`` and
``deepscope.train(...)`` (and ``deepscope.landscape(...)``: the trained net's loss
surface) return the labs' numbers (the REST responses) as Python
objects; ``deepscope.upload(csv=...)`` gives the training lab your own data (see
``deepscope.notebook``). Importing ``deepscope`` loads neither the server (FastAPI,
uvicorn) nor NumPy: each function imports what it needs when it is called.
"""

__version__ = "0.1.0"

from .notebook import descend, landscape, layers, show, sweep, train, upload  # (stdlib only)

__all__ = ["__version__", "descend", "landscape", "layers", "show", "sweep", "train", "upload"]
