"""Every record key a converter in ``slurmrest.api`` reads exists in what that Slurm version's
table decodes, so that a field renamed in a later release fails here instead of silently
becoming the converter's default.

Each record is decoded from the table's own defaults (``Struct.pack`` of a few fields, then
``unpack``: the very form the decoder produces), wrapped in a dict that notes the keys read
(``[]``, ``get``, ``in``; nested records too), and handed to the converter.
"""

import ast
import importlib
import os

from twisted.trial import unittest

from slurmrest.api import (diag, job_records, licenses, meta, nodes, partitions, reservations)
from slurmrest.wire.enums import CR_CORE, RESERVE_FLAG_PURGE_COMP
from slurmrest.wire.primitives import Bitmap
from slurmrest.wire.tables import VERSIONS


class ReadKeys(dict):
    """A decoded record that notes, into ``missing``, each key read that it lacks (``path``
    names the record: ``job.job_resrcs``); into ``read``, every key read."""

    def __init__(self, record: dict, path: str, read: set, missing: set):
        super().__init__((key, _wrap(value, f"{path}.{key}", read, missing))
                         for key, value in record.items())
        self._path, self._read, self._missing = path, read, missing

    def _note(self, key):
        self._read.add(f"{self._path}.{key}")
        if not dict.__contains__(self, key):
            self._missing.add(f"{self._path}.{key}")

    def __getitem__(self, key):
        self._note(key)
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        self._note(key)
        return dict.get(self, key, default)

    def __contains__(self, key):
        self._note(key)
        return dict.__contains__(self, key)


def _wrap(value, path, read, missing):
    if isinstance(value, dict):
        return ReadKeys(value, path, read, missing)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [ReadKeys(item, path, read, missing) for item in value]
    return value


def decoded(struct, fields=None) -> dict:
    """A record as the decoder gives it: the table's defaults, ``fields`` set."""
    record, end = struct.unpack(struct.pack(fields or {}))
    return record


def converter_cases(T):
    """(name, table, fields set, converter) for the converters of the API room, for the table
    module ``T`` of one Slurm version."""
    resources = {"nhosts": 1, "nodes": "n1", "sockets_per_node": [1],
                 "cores_per_socket": [2], "sock_core_rep_count": [1]}
    with_parts = {"multi_core": {}, "job_resrcs": resources}
    return (
        ("job", T.JOB_RECORD, {}, job_records.job_document),
        ("job", T.JOB_RECORD, with_parts, job_records.job_document),
        ("job", T.JOB_RECORD, with_parts, lambda r: job_records.job_document(r, CR_CORE)),
        ("node", T.NODE_RECORD, {}, lambda r: nodes.node_document(r, [])),
        ("partition", T.PARTITION_RECORD, {}, partitions.partition_document),
        ("partition", T.PARTITION_RECORD, {"node_inx": Bitmap(2, "0x3")},
         lambda r: nodes.node_partitions([r])),
        ("reservation", T.RESERVATION_RECORD, {"flags": RESERVE_FLAG_PURGE_COMP},
         reservations.reservation_document),
        ("license", T.LICENSE_RECORD, {}, licenses.license_document),
        ("stats", T.STATS_RESPONSE, {"parts_packed": 1}, diag.statistics_document),
        ("build_info", T.BUILD_INFO, {}, meta.BuildInfoCache().update),
    )


_API = os.path.dirname(meta.__file__)


def build_info_reads() -> set:
    """Keys read from build info where handlers use it directly: the API room names it
    ``info`` (``info.get("select_type_param")``, ``info["…"]``)."""
    keys = set()
    for name in sorted(os.listdir(_API)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(_API, name), encoding="utf-8") as f:
            tree = ast.parse(f.read(), name)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get" and _is_info(node.func.value) and node.args
                    and isinstance(node.args[0], ast.Constant)):
                keys.add(node.args[0].value)
            elif (isinstance(node, ast.Subscript) and _is_info(node.value)
                  and isinstance(node.slice, ast.Constant)):
                keys.add(node.slice.value)
    return keys


def _is_info(node) -> bool:
    return isinstance(node, ast.Name) and node.id == "info"


def tables_of(version):
    """The table module of a ``SlurmVersion`` (``22.05`` -> ``wire/tables/v22_05.py``)."""
    return importlib.import_module(f"slurmrest.wire.tables.v{version.name.replace('.', '_')}")


class ConverterKeysMixin:
    """The checks, for the version whose table module is ``TABLES``."""

    TABLES = None

    def test_converters_read_only_decoded_keys(self):
        missing = set()
        for name, struct, fields, convert in converter_cases(self.TABLES):
            read = set()
            convert(ReadKeys(decoded(struct, fields), name, read, missing))
            self.assertTrue(read, name)
        self.assertEqual(sorted(missing), [],
                         f"converters read keys that {self.TABLES.__name__} does not decode")

    def test_handlers_read_only_decoded_build_info_keys(self):
        keys = build_info_reads()
        self.assertIn("select_type_param", keys)
        self.assertEqual(keys - set(decoded(self.TABLES.BUILD_INFO)), set())

    def test_a_renamed_field_is_found(self):
        """The check itself: a record without a field the converter reads is reported."""
        record = decoded(self.TABLES.JOB_RECORD)
        record["user_id_renamed"] = record.pop("user_id")
        read, missing = set(), set()
        job_records.job_document(ReadKeys(record, "job", read, missing))
        self.assertEqual(missing, {"job.user_id"})


# One test class per version in the one list: a new release is checked without a new line.
for _version in VERSIONS:
    _name = f"ConverterKeysTests_{_version.name.replace('.', '_')}"
    globals()[_name] = type(_name, (ConverterKeysMixin, unittest.TestCase),
                            {"TABLES": tables_of(_version)})
del _version, _name
