"""Batch reconstruction and interpolation over many studies, on this machine or a Dask cluster.

* :mod:`.studies` finds the studies (folders searched recursively, globs, a CSV manifest);
* :mod:`.spec` holds what to run on each (:class:`~.spec.BatchSpec`) and its parameters hash;
* :mod:`.task` is the one task a worker runs per study and method (open → run → score → write);
* :mod:`.manifest` is the JSON-lines record of every finished task (``--resume`` reads it);
* :mod:`.engine` runs the tasks with Dask distributed (a ``LocalCluster`` or a scheduler address);
* :mod:`.report` summarises the manifest (``report.csv``: per-method metrics, failures by reason).

Dask is an optional extra (``mrstudio[cluster]``): only :mod:`.engine` imports it, when it runs.
"""
