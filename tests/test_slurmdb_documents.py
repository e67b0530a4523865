"""The pure conversions of the accounts, clusters and wckeys operations: records in the
decoder's exact form (``tests.records.decoded``) to documents, and request bodies checked
(and refused whole) before anything is written. The live tests are test_slurmdb_accounts,
test_slurmdb_clusters and test_slurmdb_wckeys."""

from twisted.trial import unittest

from slurmrest.api.errors import ApiError
from slurmrest.api.slurmdb import accounts, bodies, clusters, wckeys
from slurmrest.wire import enums
from slurmrest.wire.errors import ESLURM_REST_INVALID_QUERY
from slurmrest.wire.primitives import NO_VAL
from slurmrest.wire.tables import dbd_v22_05 as T
from tests.records import decoded

TRES = {1: {"id": 1, "type": "cpu", "name": ""}, 6: {"id": 6, "type": "fs", "name": "disk"}}


class DocumentTests(unittest.TestCase):
    def test_account(self):
        record = decoded(T.ACCOUNT_REC, name="a", description="d", organization="o",
                         flags=enums.SLURMDB_ACCT_FLAG_DELETED,
                         assoc_list=[{"acct": "a", "cluster": "c", "user": "u"}],
                         coordinators=[{"name": "bob", "direct": 1}])
        self.assertEqual(accounts.account_document(record), {
            "associations": [{"account": "a", "cluster": "c", "partition": None,
                              "user": "u"}],
            "coordinators": [{"name": "bob", "direct": 1}],
            "description": "d", "name": "a", "organization": "o", "flags": ["DELETED"]})

    def test_account_null_lists(self):
        doc = accounts.account_document(decoded(T.ACCOUNT_REC, name="a"))
        self.assertEqual((doc["associations"], doc["coordinators"], doc["flags"]),
                         ([], [], []))

    def test_cluster(self):
        record = decoded(T.CLUSTER_REC, name="c", control_host="h", control_port=6817,
                         flags=enums.CLUSTER_FLAG_MULTSD | enums.CLUSTER_FLAG_EXT,
                         nodes="n[1-2]", plugin_id_select=109, rpc_version=9728,
                         tres_str="1=8,6=0,99=1")
        self.assertEqual(clusters.cluster_document(record, TRES), {
            "controller": {"host": "h", "port": 6817},
            "flags": ["MULTIPLE_SLURMD", "EXTERNAL"], "name": "c", "nodes": "n[1-2]",
            "select_plugin": "cons_tres", "associations": {"root": None},
            "rpc_version": 9728,
            "tres": [{"type": "cpu", "name": None, "id": 1, "count": 8},
                     {"type": "fs", "name": "disk", "id": 6, "count": 0},
                     {"type": None, "name": None, "id": 99, "count": 1}]})

    def test_cluster_unset_flags_and_plugin(self):
        doc = clusters.cluster_document(decoded(T.CLUSTER_REC, name="c"), TRES)
        self.assertEqual((doc["flags"], doc["select_plugin"], doc["tres"]), ([], None, []))
        self.assertEqual(decoded(T.CLUSTER_REC, name="c")["flags"], NO_VAL)

    def test_wckey(self):
        record = decoded(T.WCKEY_REC, name="k", cluster="c", user="u", id=3, is_def=1,
                         flags=enums.SLURMDB_WCKEY_FLAG_DELETED)
        self.assertEqual(wckeys.wckey_document(record), {
            "accounts": [], "cluster": "c", "id": 3, "name": "k", "user": "u",
            "flags": ["DELETED", "DEFAULT"]})
        record = decoded(T.WCKEY_REC, name="k", cluster="c", user="u", id=3, is_def=0)
        self.assertEqual(wckeys.wckey_document(record)["flags"], [])


class BodyTests(unittest.TestCase):
    def refused(self, function, *args):
        with self.assertRaises(ApiError) as caught:
            function(*args)
        self.assertEqual(caught.exception.status, 400)
        [entry] = caught.exception.errors
        self.assertEqual(entry["error_number"], ESLURM_REST_INVALID_QUERY)
        return entry["description"]

    def test_account_records(self):
        docs = accounts.account_documents({"accounts": [
            {"name": "new"}, {"name": "old", "organization": "o2"}]})
        records = accounts.account_records(
            docs, {"old": {"name": "old", "description": "d", "organization": "o"}})
        self.assertEqual([(r["name"], r["description"], r["organization"]) for r in records],
                         [("new", "new", "new"), ("old", "d", "o2")])
        for record in records:  # packs as DBD_ADD_ACCOUNTS wants it
            T.REQUESTS[T.D.DBD_ADD_ACCOUNTS].pack({"my_list": [record]})

    def test_accounts_refused(self):
        cases = {
            "accounts[1].name must be a string": {"accounts": [{"name": "a"}, {"name": 1}]},
            "accounts[0]: unknown field(s) x": {"accounts": [{"name": "a", "x": 1}]},
            "accounts[0]: missing required field 'name'": {"accounts": [{"name": ""}]},
            "'accounts' must be a non-empty list": {"accounts": []},
            "unknown field(s) in the body: meta": {"accounts": [{"name": "a"}], "meta": {}},
        }
        for text, body in cases.items():
            self.assertEqual(self.refused(accounts.account_documents, body), text)
        self.assertIn("unknown flag", self.refused(
            accounts.account_documents, {"accounts": [{"name": "a", "flags": ["X"]}]}))
        self.assertIn("must be an object", self.refused(accounts.account_documents, None))

    def test_clusters(self):
        records = clusters.cluster_records({"clusters": [{"name": "c", "flags": ["external"]}]})
        self.assertEqual(records, [{"name": "c", "flags": enums.CLUSTER_FLAG_EXT}])
        self.assertIn("slurmctld reports", self.refused(
            clusters.cluster_records, {"clusters": [{"name": "c", "controller": {}}]}))
        self.assertIn("named twice", self.refused(
            clusters.cluster_records, {"clusters": [{"name": "c"}, {"name": "c"}]}))

    def test_integers(self):
        shape = bodies.Shape({"n": int})
        for bad in (True, -1, 1.5, "1"):
            self.assertIn("non-negative integer", self.refused(
                bodies.check, {"n": bad}, shape, "x", "s"))
        bodies.check({"n": 0}, shape, "x", "s")
        bodies.check({"n": None}, shape, "x", "s")  # null: not given
