"""``python -m slurmrest.rpc``: send one slurmctld or slurmdbd RPC and print the decoded reply.

For people debugging a cluster (or this gateway): it speaks the same protocol as the gateway,
through the same client, with the same credentials::

    python -m slurmrest.rpc [-f SLURM_CONF] [--user NAME] [--token TOKEN | --key KEYFILE]
        ping | build-info | stats | licenses | jobs | job ID | nodes | node NAME |
        partitions | reservations | control-status | fed-info |
        db-jobs [ID] | db-associations | db-users | db-accounts | db-qos | db-tres |
        db-clusters | db-wckeys | db-stats   [--json]

The ``db-`` commands ask slurmdbd (``AccountingStorageHost``/``Port``) through the
accounting client, over one persistent connection.

Credentials: ``--token`` or ``$SLURM_JWT`` (sent with ``--user`` as the user to act as, if
given); otherwise a token is minted for ``--user`` (default: the current user) with
``--key`` or the ``jwt_key`` of ``AuthAltParameters`` when that file is readable.
Without ``--json`` a short summary is printed. Exit status 1 on a Slurm error.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import enum
import getpass
import json
import os
import sys

from twisted.internet import defer, task

from slurmrest.api.nodes import mixed_state
from slurmrest.wire.client import SlurmctldClient
from slurmrest.wire.dbd_client import SlurmdbdClient
from slurmrest.wire.conf import ConfigError, SlurmConfig
from slurmrest.wire.credentials import Credential, TokenMinter
from slurmrest.wire.enums import (ADMIN_LEVEL_NAMES, job_state_string, node_state_string_complete,
                                  partition_state_string)
from slurmrest.wire.errors import SlurmError
from slurmrest.wire.primitives import INFINITE, NO_VAL

COMMANDS = ("ping", "build-info", "stats", "licenses", "jobs", "job", "nodes", "node",
            "partitions", "reservations", "control-status", "fed-info")
#: slurmdbd's reads: command -> the accounting client's method.
DB_COMMANDS = {"db-jobs": "jobs", "db-associations": "associations", "db-users": "users",
               "db-accounts": "accounts", "db-qos": "qos", "db-tres": "tres",
               "db-clusters": "clusters", "db-wckeys": "wckeys", "db-stats": "stats"}


class UsageError(Exception):
    pass


def parser():
    p = argparse.ArgumentParser(prog="python -m slurmrest.rpc",
                                description="Send one slurmctld RPC and print the reply.")
    p.add_argument("-f", "--conf", metavar="SLURM_CONF",
                   help="slurm.conf (default: $SLURM_CONF, else /etc/slurm/slurm.conf)")
    p.add_argument("--user", help="user to act as (default: the current user)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--token", help="a JWT (default: $SLURM_JWT); beware: visible in ps")
    who.add_argument("--key", metavar="KEYFILE",
                     help="mint a token with this HS256 key (default: AuthAltParameters)")
    p.add_argument("--json", action="store_true", help="print the decoded reply as JSON")
    p.add_argument("--timeout", type=float, help="seconds (default: MessageTimeout)")
    p.add_argument("command", choices=COMMANDS + tuple(DB_COMMANDS))
    p.add_argument("argument", nargs="?", help="job ID (job, db-jobs) or node name (node)")
    return p


def credential_from(options, config) -> Credential:
    token = options.token or os.environ.get("SLURM_JWT")
    if token:
        return Credential(token, options.user)
    user = options.user or getpass.getuser()
    key = options.key or config.jwt_key_path
    if not key:
        raise UsageError("no token: give --token, set SLURM_JWT, or --key")
    try:
        return TokenMinter.from_file(key, lifespan=300).credential_for(user)
    except OSError as e:
        raise UsageError(f"no token: cannot read the JWT key {key} ({e.strerror}); "
                         "give --token, set SLURM_JWT, or --key") from None


async def run(reactor, options, out=sys.stdout):
    config = SlurmConfig.load(options.conf)
    credential = credential_from(options, config)
    if options.command in DB_COMMANDS:
        return await run_dbd(reactor, options, config, credential, out)
    client = SlurmctldClient(config, reactor, connect_timeout=options.timeout,
                             read_timeout=options.timeout)
    ctld = client.bind(credential)
    command = options.command
    if command in ("job", "node") and not options.argument:
        raise UsageError(f"{command} needs an argument")
    if command == "ping":
        reply = {"pings": []}
        for index, controller in enumerate(config.controllers):
            try:
                rc = await ctld.ping(index)
            except SlurmError as e:
                rc, error = e.errno, str(e)
            else:
                error = None
            reply["pings"].append({"index": index, "name": controller.name,
                                   "address": f"{controller.address}:{controller.port}",
                                   "rc": rc, "up": rc == 0, "error": error})
    elif command == "job":
        reply = await ctld.job(int(options.argument))
    elif command == "node":
        reply = await ctld.node(options.argument)
    elif command == "control-status":
        reply = await ctld.control_status(0)
    else:
        reply = await getattr(ctld, command.replace("-", "_"))()
    _print(reply, options.json, SUMMARIES.get(command, _summary_generic), out)
    if command == "ping" and not all(p["up"] for p in reply["pings"]):
        return 1
    return 0


async def run_dbd(reactor, options, config, credential, out):
    client = SlurmdbdClient(config, reactor, connect_timeout=options.timeout,
                            read_timeout=options.timeout)
    dbd = client.bind(credential)
    command = options.command
    try:
        if command == "db-stats":
            reply = await dbd.stats()
        elif command == "db-users":  # the default account comes with the associations
            reply = await dbd.users({"with_assocs": 1})
        elif command == "db-jobs" and options.argument:
            reply = await dbd.jobs({"step_list": [{"job_id": int(options.argument)}]})
        else:
            reply = await getattr(dbd, DB_COMMANDS[command])()
    finally:
        await client.close()
    _print(reply, options.json, DB_SUMMARIES.get(command, _summary_generic), out)
    return 0


def _print(reply, as_json, summary, out):
    if as_json:
        json.dump(reply, out, indent=2, default=_json_default, sort_keys=False)
        out.write("\n")
    else:
        for line in summary(reply):
            out.write(line + "\n")


def _json_default(value):
    """Anything the decoder may produce that json does not know: bytes, bitmaps, enums."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _time(t):
    if not t:
        return "-"
    try:
        return datetime.datetime.fromtimestamp(t).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return str(t)


def _minutes(value):
    if value == INFINITE:
        return "UNLIMITED"
    if value == NO_VAL:
        return "-"
    return f"{value}min"


def _summary_ping(reply):
    for p in reply["pings"]:
        state = "UP" if p["up"] else f"DOWN ({p['error']})"
        yield f"controller {p['index']} {p['name']} {p['address']}: {state}"


def _summary_build_info(reply):
    yield f"cluster {reply.get('cluster_name')} version {reply.get('version')}"
    yield f"controllers {', '.join(m or '?' for m in reply.get('control_machine') or [])}"
    yield f"configuration of {_time(reply.get('last_update'))}"


def _summary_stats(reply):
    parts = reply.get("parts") or reply
    yield f"data since {_time(parts.get('req_time_start'))}, at {_time(parts.get('req_time'))}"
    for key in ("server_thread_count", "agent_queue_size", "jobs_submitted", "jobs_started",
                "jobs_completed", "jobs_canceled", "jobs_failed", "jobs_pending",
                "jobs_running", "schedule_cycle_last", "bf_cycle_counter"):
        if key in parts:
            yield f"{key}: {parts[key]}"


def _summary_licenses(reply):
    for lic in reply.get("licenses") or []:
        yield f"{lic['name']}: {lic['in_use']}/{lic['total']} in use, {lic['reserved']} reserved"


def _summary_jobs(reply):
    records = reply.get("records") or []
    yield f"{len(records)} jobs (as of {_time(reply.get('last_update'))})"
    for job in records:
        task = "" if job.get("array_task_id") in (None, NO_VAL) else f"_{job['array_task_id']}"
        array = f"{job['array_job_id']}{task}" if job.get("array_job_id") else str(job["job_id"])
        user = job.get("user_name") or job.get("user_id", "")  # the uid when Slurm sends no name
        yield (f"{array:>12} {job.get('name') or '':<20} {user:<10} "
               f"{job_state_string(job['job_state']):<10} {job.get('partition') or '':<10} "
               f"{_minutes(job.get('time_limit', NO_VAL)):>9} {job.get('nodes') or ''}")


def _summary_nodes(reply):
    for node in reply.get("records") or []:
        if not node.get("name"):
            continue
        # scontrol's State=: base and flags, MIXED for a partly allocated node.
        yield (f"{node['name']:<10} {node_state_string_complete(mixed_state(node)):<18} "
               f"cpus={node.get('cpus')} mem={node.get('real_memory')}MB "
               f"{node.get('reason') or ''}")


def _summary_partitions(reply):
    for part in reply.get("records") or []:
        yield (f"{part.get('name'):<10} state={partition_state_string(part.get('state_up', 0))} "
               f"nodes={part.get('nodes')} max_time={_minutes(part.get('max_time', NO_VAL))}")


def _summary_reservations(reply):
    for resv in reply.get("records") or []:
        yield (f"{resv.get('name'):<12} {_time(resv.get('start_time'))} - "
               f"{_time(resv.get('end_time'))} nodes={resv.get('node_list')}")


def _summary_control_status(reply):
    role = "primary" if reply.get("backup_inx") == 0 else f"backup {reply.get('backup_inx')}"
    yield f"{role}, in control since {_time(reply.get('control_time'))}"


def _text(value):
    return "" if value is None else str(value)


def _summary_db_jobs(records):
    for job in records:
        yield (f"{job.get('jobid')} {job_state_string(job.get('state') or 0)} "
               f"user={_text(job.get('user'))} account={_text(job.get('account'))} "
               f"partition={_text(job.get('partition'))} name={_text(job.get('jobname'))}")


def _summary_db_associations(records):
    for a in records:
        yield (f"{a.get('id')} cluster={_text(a.get('cluster'))} account={_text(a.get('acct'))} "
               f"user={_text(a.get('user'))} partition={_text(a.get('partition'))}")


def _summary_db_users(records):
    for u in records:
        yield (f"{u.get('name')} default_account={_text(u.get('default_acct'))} "
               f"admin_level={ADMIN_LEVEL_NAMES.get(u.get('admin_level'), u.get('admin_level'))}")


def _summary_db_named(*keys):
    def summary(records):
        for r in records:
            yield " ".join([_text(r.get("name"))] + [f"{k}={_text(r.get(k))}" for k in keys])
    return summary


def _summary_db_tres(records):
    for t in records:
        yield f"{t.get('id')} {t.get('type')}" + (f"/{t['name']}" if t.get("name") else "")


def _summary_generic(reply):
    yield json.dumps(reply, default=_json_default)


SUMMARIES = {
    "ping": _summary_ping, "build-info": _summary_build_info, "stats": _summary_stats,
    "licenses": _summary_licenses, "jobs": _summary_jobs, "job": _summary_jobs,
    "nodes": _summary_nodes, "node": _summary_nodes, "partitions": _summary_partitions,
    "reservations": _summary_reservations, "control-status": _summary_control_status,
}
DB_SUMMARIES = {
    "db-jobs": _summary_db_jobs, "db-associations": _summary_db_associations,
    "db-users": _summary_db_users, "db-tres": _summary_db_tres,
    "db-accounts": _summary_db_named("description", "organization"),
    "db-qos": _summary_db_named("id", "priority"),
    "db-clusters": _summary_db_named("control_host", "control_port", "rpc_version"),
    "db-wckeys": _summary_db_named("user", "cluster"),
}


def main(argv=None):
    options = parser().parse_args(argv)

    async def entry(reactor):
        try:
            status = await run(reactor, options)
        except (UsageError, ConfigError) as e:
            sys.stderr.write(f"slurmrest.rpc: {e}\n")
            status = 2
        except SlurmError as e:
            sys.stderr.write(f"slurmrest.rpc: {options.command}: {e} "
                             f"({e.name or e.errno})\n")
            status = 1
        except BrokenPipeError:  # e.g. piped into head: nobody is reading any more
            status = 1
        if status:
            raise SystemExit(status)

    task.react(lambda reactor: defer.ensureDeferred(entry(reactor)))


if __name__ == "__main__":
    main()
