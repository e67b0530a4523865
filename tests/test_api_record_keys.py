"""Every record key an ``api/`` converter reads exists in what that version's table decodes.

A field renamed or dropped in a later Slurm release must fail here, not turn silently into
the converter's default. The converters run on replies built from each version's own
tables (every optional part present, one element in every list), packed and decoded again
so that they have exactly the form the decoder produces; every read is noted.
"""

from twisted.trial import unittest

from slurmrest.api import diag, job_records, licenses, nodes, partitions, reservations
from slurmrest.wire import schema as S
from slurmrest.wire.msgtypes import MsgType as M
from slurmrest.wire.tables import VERSIONS


def full_record(struct):
    """A record of ``struct`` with every optional part present and one of every list."""
    record = {}
    for field in struct.fields:
        part = _full_value(field.type)
        if part is not None:
            if isinstance(field.type, S.Optional) and field.type.flatten:
                record.update(part)  # the fields beside the flag, which says "present"
                record[field.name] = (1 if field.type.present is None
                                      else field.type.present)
            else:
                record[field.name] = part
    return record


def _full_value(ftype):
    if isinstance(ftype, S.Struct):
        return full_record(ftype)
    if isinstance(ftype, S.Optional):
        return full_record(ftype.struct)
    if isinstance(ftype, S.AbsentIf):
        inner = full_record(ftype.struct)
        inner[ftype.struct.fields[0].name] = 1  # not the sentinel: present
        return inner
    if isinstance(ftype, (S.List, S.Counted)) and isinstance(ftype.element, S.Struct):
        return [full_record(ftype.element)]
    return None


#: Keys a converter asks for though no table decodes them, and why that is right.
NOT_DECODED = {
    # libslurm computes it after unpacking (§5.9); the converter does the same when absent.
    "license_info.licenses[]: available",
}


class Reads(dict):
    """A decoded record that notes every key asked of it which it does not have."""

    def __init__(self, data, path, missing):
        super().__init__({k: _wrap(v, f"{path}.{k}", missing) for k, v in data.items()})
        self._path, self._missing = path, missing

    def _note(self, key):
        if not dict.__contains__(self, key):
            self._missing.add(f"{self._path}: {key}")

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)


def _wrap(value, path, missing):
    if isinstance(value, dict):
        return Reads(value, path, missing)
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], dict):
        return type(value)(_wrap(v, f"{path}[]", missing) for v in value)
    return value


class ConverterKeyTests(unittest.TestCase):

    def reply(self, version, msg_type, missing):
        table = version.bodies[msg_type]
        decoded = table.unpack_exact(table.pack(full_record(table)))
        return Reads(decoded, f"{version.name} {table.name}", missing)

    def check(self, convert, *msg_types):
        for version in VERSIONS:
            missing = set()
            convert(*(self.reply(version, t, missing) for t in msg_types))
            unexpected = sorted(m for m in missing
                                if m.split(" ", 1)[1] not in NOT_DECODED)
            self.assertEqual(unexpected, [], f"keys read but not decoded ({version})")

    def test_jobs(self):
        def convert(reply):
            for record in reply["records"]:
                job_records.job_document(record, None)
        self.check(convert, M.RESPONSE_JOB_INFO)

    def test_nodes(self):
        self.check(nodes.nodes_payload, M.RESPONSE_NODE_INFO, M.RESPONSE_PARTITION_INFO)

    def test_partitions(self):
        self.check(partitions.partitions_payload, M.RESPONSE_PARTITION_INFO)

    def test_reservations(self):
        self.check(reservations.reservations_payload, M.RESPONSE_RESERVATION_INFO)

    def test_licenses(self):
        self.check(licenses.licenses_payload, M.RESPONSE_LICENSE_INFO)

    def test_diag(self):
        self.check(diag.statistics_document, M.RESPONSE_STATS_INFO)

    def test_a_renamed_field_fails(self):
        """The check itself: a table without ``partition`` makes the jobs converter miss it."""
        version = VERSIONS[-1]
        renamed = version.bodies[M.RESPONSE_JOB_INFO].replace(change=[(
            "records", ("records", S.Counted(
                version.bodies[M.RESPONSE_JOB_INFO].fields[-1].type.element.replace(
                    change=[("partition", ("partition_name", S.STR))]),
                "record_count"))),
        ])
        derived = version.derive("renamed", 0x7f01, bodies={M.RESPONSE_JOB_INFO: renamed})
        missing = set()
        for record in self.reply(derived, M.RESPONSE_JOB_INFO, missing)["records"]:
            job_records.job_document(record, None)
        self.assertIn("renamed job_info.records[]: partition", missing)
