"""twistd plugin: ``twistd slurmrest -l HOST:PORT ...`` (no __init__.py here: twisted.plugins is a namespace)."""

from twisted.application.service import ServiceMaker

slurmrest = ServiceMaker(
    "slurmrest", "slurmrest.tap", "A REST gateway to Slurm (slurmctld and slurmdbd).", "slurmrest"
)
