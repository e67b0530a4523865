"""The accounting operations (``/slurmdb/...``): one module per kind of slurmdbd record,
``reference`` for what they share (TRES and QOS tables, TRES lists)."""
