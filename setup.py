"""slurmrest: a REST gateway to Slurm that speaks Slurm's own RPC protocol."""

from setuptools import find_packages, setup

setup(
    name="slurmrest",
    version="0.1.0.dev0",
    description="A REST gateway to Slurm that speaks Slurm's RPC protocol itself",
    long_description=open("README.rst", encoding="utf-8").read(),
    long_description_content_type="text/x-rst",
    python_requires=">=3.11",
    packages=find_packages(include=["slurmrest", "slurmrest.*"]) + ["twisted.plugins"],
    package_data={"twisted": ["plugins/slurmrest_plugin.py"]},
    install_requires=[
        "twisted[tls]>=22.10",
        "pyopenssl>=23.0",
        "service-identity>=21.1",
        "ruamel.yaml>=0.17.21",
        "PyJWT>=2.6",
        "prometheus_client>=0.16",
    ],
    extras_require={
        "test": [
            "hypothesis>=6.70",
            "treq>=22.2",
            "openapi-spec-validator>=0.7",
            # A client generated from our own /openapi/v3 (tests/test_openapi_client.py).
            "openapi-python-client>=0.20",
            # Fuzzing our own document against the real cluster (tests/test_schemathesis_live.py).
            "schemathesis>=4,<5",
        ],
    },
    entry_points={"console_scripts": ["slurmrest = slurmrest.inet:main"]},
)
