"""Where a test cluster keeps things: its ports, paths, daemons and ``cluster.json``.

Everything of one cluster lives under one directory. Every port derives from one base so
that a second cluster runs beside the first: the default base gives the reference cluster's
ports (slurmctld 6817, slurmdbd 6819, slurmrestd 6820, slurmd 6831-6834, MariaDB 3307), and
``--port-base 7800`` gives 7800, 7802, 7803, 7814-7817 and 4290.
"""

import json
import os
import re
import socket
from dataclasses import dataclass, field

DEFAULT_PORT_BASE = 6817
DEFAULT_CLUSTER_NAME = "testcluster"
NODES = ("n1", "n2", "n3", "n4")
RESTD_USER = "slurmrestd"

# Offsets from the base. MariaDB sits far below the Slurm ports (3307 for the default base)
# so that it never collides with another cluster's Slurm ports.
CTLD_OFFSET = 0
DBD_OFFSET = 2
RESTD_OFFSET = 3
SLURMD_OFFSET = 14
MYSQL_OFFSET = 3307 - DEFAULT_PORT_BASE

MIN_PORT_BASE = 1024 - MYSQL_OFFSET
MAX_PORT_BASE = 65535 - SLURMD_OFFSET - len(NODES)

# (pid file stem, /proc/PID/comm) of every daemon a cluster runs, in start order.
DAEMONS = (
    ("munged", "munged"),
    ("mariadbd", "mariadbd"),
    ("slurmdbd", "slurmdbd"),
    ("slurmctld", "slurmctld"),
    *((f"slurmd.{node}", "slurmd") for node in NODES),
    ("slurmrestd", "slurmrestd"),
)


@dataclass(frozen=True)
class Ports:
    """The TCP ports of one cluster's daemons."""

    ctld: int
    dbd: int
    restd: int
    slurmd: tuple
    mysql: int

    @classmethod
    def from_base(cls, base=DEFAULT_PORT_BASE):
        if not MIN_PORT_BASE <= base <= MAX_PORT_BASE:
            raise ValueError(f"port base {base} out of range {MIN_PORT_BASE}..{MAX_PORT_BASE}")
        return cls(
            ctld=base + CTLD_OFFSET,
            dbd=base + DBD_OFFSET,
            restd=base + RESTD_OFFSET,
            slurmd=tuple(base + SLURMD_OFFSET + i for i in range(len(NODES))),
            mysql=base + MYSQL_OFFSET,
        )

    @property
    def base(self):
        return self.ctld - CTLD_OFFSET

    def all(self):
        return [self.ctld, self.dbd, self.restd, *self.slurmd, self.mysql]

    def as_dict(self):
        return {
            "base": self.base,
            "ctld": self.ctld,
            "dbd": self.dbd,
            "restd": self.restd,
            "slurmd": list(self.slurmd),
            "mysql": self.mysql,
        }

    @classmethod
    def from_dict(cls, d):
        return cls(d["ctld"], d["dbd"], d["restd"], tuple(d["slurmd"]), d["mysql"])


def port_is_free(port):
    """True when nothing listens on ``port`` on 127.0.0.1 (bound as the daemons bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_base(candidates=None):
    """The first base whose every port is free: the default, then 7817, 8817, ..."""
    if candidates is None:
        candidates = [DEFAULT_PORT_BASE + 1000 * i for i in range(0, 50)]
        candidates += [5000 + 100 * i for i in range(0, 50)]
    for base in candidates:
        try:
            ports = Ports.from_base(base)
        except ValueError:
            continue
        if all(port_is_free(p) for p in ports.all()):
            return base
    raise RuntimeError("no free port base found")


@dataclass
class Layout:
    """The files of a cluster directory and what ``cluster.json`` records about it."""

    dir: str
    ports: Ports = field(default_factory=Ports.from_base)
    cluster_name: str = DEFAULT_CLUSTER_NAME
    restd: bool = False
    restd_user: str = RESTD_USER

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def slurm_conf(self):
        return self.path("etc", "slurm.conf")

    @property
    def slurmdbd_conf(self):
        return self.path("etc", "slurmdbd.conf")

    @property
    def jwt_key_path(self):
        return self.path("jwt_hs256.key")

    @property
    def munge_socket(self):
        return self.path("munge", "run", "munge.socket.2")

    @property
    def json_path(self):
        return self.path("cluster.json")

    @property
    def restd_url(self):
        """The URL slurmrestd answers on when started (whether or not it runs now)."""
        return f"http://127.0.0.1:{self.ports.restd}" if self.restd else None

    def pid_file(self, stem):
        return self.path("run", f"{stem}.pid")

    def as_dict(self):
        return {
            "cluster_name": self.cluster_name,
            "dir": self.dir,
            "slurm_conf": self.slurm_conf,
            "slurmdbd_conf": self.slurmdbd_conf,
            "jwt_key": self.jwt_key_path,
            "munge_socket": self.munge_socket,
            "nodes": list(NODES),
            "ports": self.ports.as_dict(),
            "restd": self.restd,
            "restd_user": self.restd_user,
            "restd_url": self.restd_url,
        }

    def write_json(self):
        tmp = self.json_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.as_dict(), f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.json_path)

    @classmethod
    def load(cls, directory):
        """The layout of an existing cluster directory.

        ``cluster.json`` when present; otherwise (a directory made by the shell script
        ``testcluster.sh``) the ports are read back from ``etc/slurm.conf``,
        ``etc/slurmdbd.conf`` and ``env.sh``.
        """
        directory = os.path.abspath(directory)
        json_path = os.path.join(directory, "cluster.json")
        if os.path.exists(json_path):
            with open(json_path, encoding="utf-8") as f:
                d = json.load(f)
            return cls(
                dir=directory,
                ports=Ports.from_dict(d["ports"]),
                cluster_name=d.get("cluster_name", DEFAULT_CLUSTER_NAME),
                restd=bool(d.get("restd")),
                restd_user=d.get("restd_user", RESTD_USER),
            )
        return cls._from_config_files(directory)

    @classmethod
    def _from_config_files(cls, directory):
        slurm_conf = os.path.join(directory, "etc", "slurm.conf")
        if not os.path.exists(slurm_conf):
            raise FileNotFoundError(f"{directory} is not a test cluster directory (no {slurm_conf})")
        conf = read_conf(slurm_conf)
        ctld = int(conf.get("slurmctldport", 6817))
        dbd = int(conf.get("accountingstorageport", 6819))
        slurmd0 = int(conf.get("slurmdport", 6831))
        mysql = 3307
        try:
            mysql = int(read_conf(os.path.join(directory, "etc", "slurmdbd.conf")).get("storageport", mysql))
        except OSError:
            pass  # slurmdbd.conf is readable by root and the SlurmUser only
        restd_url = read_env_sh(os.path.join(directory, "env.sh")).get("SLURMRESTD_URL")
        restd = ctld + RESTD_OFFSET
        if restd_url:
            m = re.search(r":(\d+)/*$", restd_url)
            if m:
                restd = int(m.group(1))
        ports = Ports(ctld, dbd, restd, tuple(slurmd0 + i for i in range(len(NODES))), mysql)
        return cls(
            dir=directory,
            ports=ports,
            cluster_name=conf.get("clustername", DEFAULT_CLUSTER_NAME),
            restd=bool(restd_url),
        )


def read_conf(path):
    """The ``Key=Value`` lines of a Slurm config file (first pair of each line), keys lower-cased."""
    result = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "=" not in line:
                continue
            key, value = line.split("=", 1)
            value = value.split()[0] if value.split() else ""
            result.setdefault(key.strip().lower(), value)
    return result


def read_env_sh(path):
    """The ``export NAME=value`` lines of an ``env.sh``."""
    result = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
                if m:
                    result[m.group(1)] = m.group(2).strip().strip("'\"")
    except FileNotFoundError:
        pass
    return result


def pid_alive(pid_file, comm):
    """The PID in ``pid_file`` when that process runs and is ``comm``; None otherwise."""
    try:
        with open(pid_file, encoding="ascii") as f:
            text = "".join(c for c in f.read() if c.isdigit())
    except OSError:
        return None
    if not text:
        return None
    pid = int(text)
    try:
        with open(f"/proc/{pid}/comm", encoding="ascii") as f:
            if f.read().strip() != comm:
                return None
    except OSError:
        return None
    return pid
