"""Every record key a /slurmdb converter reads exists in what each release's slurmdbd tables
decode (tests/test_converter_keys.py does the same for the slurmctld converters), so that a
member renamed or dropped in a later release fails here instead of silently becoming the
converter's default. Members a release really dropped are listed, with what the document
then says, in ``DROPPED``."""

from twisted.trial import unittest

from slurmrest.api.slurmdb import accounts, clusters, diag, qos, wckeys
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.tables import dbd_v22_05, dbd_v24_11
from tests.test_converter_keys import ReadKeys

#: Keys a converter may read that a release no longer decodes (``.get`` gives None).
DROPPED = {
    # select plugins are gone in 24.11 (cluster_rec lost plugin_id_select): select_plugin
    # is null, as slurmrestd 24.11's is "".
    "24.11": {"cluster.plugin_id_select"},
}


def decoded(tables, reply_type, fields) -> dict:
    """One record of a GOT_* reply as the decoder gives it: the table's defaults, ``fields``
    set (nested records as dicts of their own fields)."""
    table = tables.replies[reply_type]
    body, _ = table.unpack(table.pack({"my_list": [fields]}))
    return body["my_list"][0]


def converter_cases(tables):
    """(name, record, converter) for the /slurmdb converters, decoded by ``tables``."""
    tres_by_id = {1: {"id": 1, "type": "cpu", "name": None}}
    assoc = {"acct": "a", "cluster": "c", "user": "u", "qos_list": ["1"]}
    stats_table = tables.replies[D.DBD_GOT_STATS]
    rollup = {"cluster_name": None, "rollup_count": 3,
              "rollups": [{"count": i, "timestamp": 1} for i in range(3)]}
    stats, _ = stats_table.unpack(stats_table.pack({
        "dbd_rollup_stats": rollup, "rollup_stats": [rollup],
        "rpc_list": [{"cnt": 1, "id": 1489, "time": 5}],
        "user_list": [{"cnt": 1, "id": 0, "time": 5}]}))
    return (
        ("account", decoded(tables, D.DBD_GOT_ACCOUNTS, {
            "name": "a", "assoc_list": [assoc], "coordinators": [{"name": "u"}]}),
         accounts.account_document),
        ("cluster", decoded(tables, D.DBD_GOT_CLUSTERS, {
            "name": "c", "tres_str": "1=4", "root_assoc": assoc}),
         lambda r: clusters.cluster_document(r, tres_by_id)),
        ("qos", decoded(tables, D.DBD_GOT_QOS, {
            "name": "q", "id": 1, "max_tres_pj": "1=2", "preempt_list": ["1"]}),
         lambda r: qos.qos_document(r, tres_by_id, {1: {"id": 1, "name": "q"}})),
        ("wckey", decoded(tables, D.DBD_GOT_WCKEYS, {"name": "w", "cluster": "c",
                                                      "user": "u"}),
         wckeys.wckey_document),
        ("stats", stats, diag.statistics_document),
    )


class SlurmdbConverterKeysMixin:
    tables = None

    def test_converters_read_only_decoded_keys(self):
        missing = set()
        for name, record, convert in converter_cases(self.tables):
            read = set()
            convert(ReadKeys(record, name, read, missing))
            self.assertTrue(read, name)
        self.assertEqual(sorted(missing - DROPPED.get(self.tables.name, set())), [],
                         f"converters read keys that slurmdbd {self.tables.name} does not "
                         f"decode")
        # a listed drop that no converter reads any more is stale
        self.assertEqual(DROPPED.get(self.tables.name, set()) - missing, set())

    def test_a_dropped_field_is_found(self):
        """The check itself: a record without a field the converter reads is reported."""
        record = decoded(self.tables, D.DBD_GOT_ACCOUNTS, {"name": "a"})
        record["name_renamed"] = record.pop("name")
        read, missing = set(), set()
        accounts.account_document(ReadKeys(record, "account", read, missing))
        self.assertIn("account.name", missing)


class Slurmdb2205Tests(SlurmdbConverterKeysMixin, unittest.TestCase):
    tables = dbd_v22_05.TABLES


class Slurmdb2411Tests(SlurmdbConverterKeysMixin, unittest.TestCase):
    tables = dbd_v24_11.TABLES
