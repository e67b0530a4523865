"""Bring a test cluster up, down, or report on it (``python -m slurmrest.testing.cluster``).

Debian 12 packages, POSIX users, configs under DIR, then on loopback only: munged, MariaDB,
slurmdbd, slurmctld, four slurmd (n1-n4), optionally the reference slurmrestd. Idempotent:
what already runs is left alone. ``down`` stops only processes whose PID files are under DIR
and whose command line or environment names DIR.
"""

import argparse
import base64
import contextlib
import fcntl
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from slurmrest.testing import configs
from slurmrest.testing.layout import (
    DAEMONS,
    DEFAULT_CLUSTER_NAME,
    DEFAULT_PORT_BASE,
    NODES,
    RESTD_USER,
    Layout,
    Ports,
    free_port_base,
    pid_alive,
    port_is_free,
)

PACKAGES = (
    "munge", "mariadb-server", "mariadb-client", "slurmctld", "slurmd", "slurmdbd",
    "slurmrestd", "slurm-client", "slurm-wlm-jwt-plugin", "slurm-wlm-mysql-plugin",
    "slurm-wlm-basic-plugins", "curl", "iproute2",
)
TEST_USERS = (("alice", 2001), ("bob", 2002))
STOP_GRACE = 30.0


class ClusterError(Exception):
    pass


def log(message):
    print(f"[testcluster {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait_for(timeout, what, predicate, interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:
            pass
        if time.monotonic() >= deadline:
            raise ClusterError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(interval)


def base_env(layout=None):
    env = dict(os.environ)
    env.pop("SLURM_JWT", None)
    path = env.get("PATH", "")
    for d in ("/usr/local/sbin", "/usr/sbin", "/sbin"):
        if d not in path.split(":"):
            path = f"{d}:{path}" if path else d
    env["PATH"] = path
    if layout is not None:
        env["SLURM_CONF"] = layout.slurm_conf
    return env


def sh(argv, layout=None, check=True, input=None, timeout=120):
    """Run a command quietly (text), with SLURM_CONF for the cluster."""
    return subprocess.run(
        list(argv), env=base_env(layout), input=input, capture_output=True, text=True,
        check=check, timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL,
    )


def ok(argv, layout=None, timeout=30):
    try:
        return sh(argv, layout, check=False, timeout=timeout).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def daemon(argv, layout, stdout=None):
    """Start a daemon detached from us (own session, no inherited terminal or pipes)."""
    return subprocess.Popen(
        list(argv), env=base_env(layout), stdin=subprocess.DEVNULL,
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if stdout is not None else subprocess.DEVNULL,
        start_new_session=True, close_fds=True,
    )


# ---------------------------------------------------------------- packages and users
def missing_packages(packages=PACKAGES):
    missing = []
    for p in packages:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                              text=True)
        if "install ok installed" not in proc.stdout:
            missing.append(p)
    return missing


def install_packages(packages=PACKAGES):
    missing = missing_packages(packages)
    if not missing:
        return
    log(f"installing: {' '.join(missing)}")
    # Keep the maintainer scripts from starting system-wide munge and MariaDB.
    policy = "/usr/sbin/policy-rc.d"
    made_policy = not os.path.exists(policy)
    if made_policy:
        with open(policy, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(policy, 0o755)
    env = base_env()
    env["DEBIAN_FRONTEND"] = "noninteractive"
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    try:
        if subprocess.run(install, env=env, stdin=subprocess.DEVNULL, capture_output=True).returncode:
            log("apt-get install failed; running apt-get update first")
            subprocess.run(["apt-get", "update", "-q"], env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, check=True)
            proc = subprocess.run(install, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True)
            if proc.returncode:
                raise ClusterError(f"apt-get install failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    finally:
        if made_policy:
            os.unlink(policy)


def ensure_user(name, uid):
    try:
        existing = pwd.getpwnam(name)
    except KeyError:
        pass
    else:
        if existing.pw_uid != uid:
            log(f"WARNING: user {name} exists with uid {existing.pw_uid} (wanted {uid})")
        return
    try:
        grp.getgrnam(name)
    except KeyError:
        sh(["groupadd", "-g", str(uid), name])
    sh(["useradd", "-u", str(uid), "-g", name, "-m", "-s", "/bin/bash", name])
    log(f"created user {name} ({uid})")


def ensure_users(restd_user=RESTD_USER):
    for name, uid in TEST_USERS:
        ensure_user(name, uid)
    try:
        pwd.getpwnam(restd_user)
    except KeyError:
        sh(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
            "/nonexistent", "--shell", "/usr/sbin/nologin", restd_user])
        log(f"created system user {restd_user}")


# ---------------------------------------------------------------- layout and configs
def install_dir(path, mode, owner="root", group=None):
    os.makedirs(path, exist_ok=True)
    shutil.chown(path, owner, group or owner)
    os.chmod(path, mode)


def write_file(path, text, mode, owner="root"):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    shutil.chown(tmp, owner, owner)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def make_layout(layout):
    p = layout.path
    os.makedirs(layout.dir, exist_ok=True)
    os.chmod(layout.dir, 0o755)
    # munge, slurm, mysql and the test users all work inside DIR.
    if sh(["runuser", "-u", "nobody", "--", "test", "-x", layout.dir], check=False).returncode:
        raise ClusterError(f"{layout.dir} is not reachable by other users (a parent directory "
                           "lacks o+x); choose a directory under /tmp or /var/tmp")
    install_dir(p("etc"), 0o755)
    install_dir(p("secrets"), 0o700)
    install_dir(p("munge"), 0o755, "munge")
    install_dir(p("munge", "run"), 0o755, "munge")
    install_dir(p("mysql"), 0o750, "mysql")
    for d in ("log", "run", "spool", os.path.join("spool", "ctld")):
        install_dir(p(d), 0o755, "slurm")
    install_dir(p("spool", "slurmd"), 0o755)
    install_dir(p("jobs"), 0o1777)
    install_dir(p("restd"), 0o755, layout.restd_user)

    key = p("munge", "munge.key")
    if not os.path.exists(key) or os.path.getsize(key) == 0:
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        log("created munge key")
    shutil.chown(key, "munge", "munge")
    os.chmod(key, 0o400)

    jwt = layout.jwt_key_path
    if not os.path.exists(jwt) or os.path.getsize(jwt) == 0:
        fd = os.open(jwt, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
        log("created JWT HS256 key (32 random bytes)")
    shutil.chown(jwt, "slurm", "slurm")
    os.chmod(jwt, 0o600)

    dbpass = p("secrets", "dbpass")
    if not os.path.exists(dbpass) or os.path.getsize(dbpass) == 0:
        password = "".join(c for c in base64.b64encode(os.urandom(18)).decode() if c.isalnum())
        write_file(dbpass, password, 0o600)


def hostname_is_loopback():
    """True when the host name resolves to 127/8 only (then NoInAddrAny binds loopback)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return False
    return all(info[4][0].startswith("127.") for info in infos)


def write_configs(layout):
    loopback = hostname_is_loopback()
    if not loopback:
        log("host name does not resolve to loopback only; daemons will listen on INADDR_ANY")
    with open(layout.path("secrets", "dbpass"), encoding="ascii") as f:
        password = f.read().strip()
    write_file(layout.slurm_conf, configs.slurm_conf(layout, loopback), 0o644)
    write_file(layout.path("etc", "plugstack.conf"), "", 0o644)
    write_file(layout.path("etc", "cgroup.conf"), configs.CGROUP_CONF, 0o644)
    write_file(layout.slurmdbd_conf, configs.slurmdbd_conf(layout, loopback, password), 0o600,
               "slurm")


def write_state(layout, restd_running):
    layout.write_json()
    write_file(layout.path("env.sh"), configs.env_sh(layout, restd_running), 0o644)


# ---------------------------------------------------------------- daemons
LOG_FILES = {
    "munged": ("munge", "munged.log"),
    "mariadbd": ("mysql", "error.log"),
    "slurmdbd": ("log", "slurmdbd.log"),
    "slurmctld": ("log", "slurmctld.log"),
    **{f"slurmd.{n}": ("log", f"slurmd.{n}.log") for n in NODES},
    "slurmrestd": ("restd", "slurmrestd.log"),
}


def log_tail(layout, stem, lines=15):
    path = layout.path(*LOG_FILES[stem])
    try:
        with open(path, errors="replace") as f:
            tail = f.readlines()[-lines:]
    except OSError:
        return f"(no log at {path})"
    return f"last lines of {path}:\n" + "".join("    " + l for l in tail)


def wait_for_daemons(layout, stems, timeout, what, predicate, interval=0.25):
    """``wait_for``, but give up at once (showing its log) when one of the daemons that
    were started has died."""
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while True:
        try:
            if predicate():
                return
        except Exception:
            pass
        # the PID file appears shortly after a daemon forks: allow it a few seconds
        if time.monotonic() - started > 3:
            for stem in stems:
                if running(layout, stem) is None:
                    raise ClusterError(f"{stem} is not running while waiting for: {what}\n"
                                       + log_tail(layout, stem))
        if time.monotonic() >= deadline:
            raise ClusterError(f"timed out after {timeout}s waiting for: {what}\n"
                               + "\n".join(log_tail(layout, s) for s in stems))
        time.sleep(interval)


def running(layout, stem):
    return pid_alive(layout.pid_file(stem), dict(DAEMONS)[stem])


def require_free(layout, port, what):
    if not port_is_free(port):
        raise ClusterError(
            f"port {port} for {what} is in use by another process (another cluster? "
            f"choose other ports with --port-base N or --port-base auto)")


def link_pid_file(target, layout, stem):
    link = layout.pid_file(stem)
    if os.path.islink(link) or os.path.exists(link):
        os.unlink(link)
    os.symlink(target, link)


def start_munge(layout):
    if running(layout, "munged"):
        return
    log("starting munged")
    sock = layout.munge_socket
    d = layout.path("munge")
    sh(["runuser", "-u", "munge", "--", "munged", f"--socket={sock}",
        f"--key-file={d}/munge.key", f"--pid-file={d}/run/munged.pid",
        f"--log-file={d}/munged.log", f"--seed-file={d}/munged.seed"])
    wait_for(20, "munged socket", lambda: os.path.exists(sock))
    link_pid_file(f"{d}/run/munged.pid", layout, "munged")
    cred = sh(["munge", "-S", sock, "-n"]).stdout
    if sh(["unmunge", "-S", sock], input=cred, check=False).returncode:
        raise ClusterError("munge round-trip failed")


def mysql_root(layout, sql):
    return sh(["mariadb", "--no-defaults", f"--socket={layout.path('mysql', 'mysqld.sock')}",
               "-u", "root"], input=sql)


def start_mariadb(layout):
    sock = layout.path("mysql", "mysqld.sock")
    if not running(layout, "mariadbd"):
        datadir = layout.path("mysql", "data")
        if not os.path.isdir(os.path.join(datadir, "mysql")):
            log("initialising MariaDB data directory")
            with open(layout.path("log", "mariadb-install.log"), "w") as out:
                proc = subprocess.run(
                    ["mariadb-install-db", "--no-defaults", "--user=mysql", f"--datadir={datadir}",
                     "--auth-root-authentication-method=socket", "--skip-test-db",
                     "--skip-name-resolve"],
                    env=base_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
            if proc.returncode:
                raise ClusterError(f"mariadb-install-db failed (see {out.name})")
        require_free(layout, layout.ports.mysql, "MariaDB")
        log(f"starting mariadbd on 127.0.0.1:{layout.ports.mysql}")
        proc = daemon(["mariadbd", "--no-defaults", "--user=mysql", f"--datadir={datadir}",
                       f"--socket={sock}", f"--pid-file={layout.path('mysql', 'mariadbd.pid')}",
                       f"--port={layout.ports.mysql}", "--bind-address=127.0.0.1",
                       "--skip-name-resolve", f"--log-error={layout.path('mysql', 'error.log')}",
                       # slurmdbd warns without these
                       "--innodb-buffer-pool-size=512M", "--innodb-log-file-size=64M",
                       "--innodb-lock-wait-timeout=900", "--max-connections=200"], layout)
        wait_for(60, "mariadbd", lambda: ok(["mariadb-admin", "--no-defaults",
                                             f"--socket={sock}", "-u", "root", "ping"])
                 or proc.poll() is not None)
        if proc.poll() is not None:
            raise ClusterError("mariadbd exited\n" + log_tail(layout, "mariadbd"))
        link_pid_file(layout.path("mysql", "mariadbd.pid"), layout, "mariadbd")
    with open(layout.path("secrets", "dbpass"), encoding="ascii") as f:
        mysql_root(layout, configs.mariadb_grants(f.read().strip()))


def start_slurmdbd(layout):
    if running(layout, "slurmdbd"):
        return
    require_free(layout, layout.ports.dbd, "slurmdbd")
    log(f"starting slurmdbd on 127.0.0.1:{layout.ports.dbd}")
    sh(["slurmdbd"], layout)  # daemonises; finds slurmdbd.conf beside SLURM_CONF
    wait_for_daemons(layout, ["slurmdbd"], 90, "slurmdbd (sacctmgr show cluster)",
                     lambda: ok(["sacctmgr", "-n", "show", "cluster"], layout), interval=0.5)


def ensure_cluster_in_db(layout):
    out = sh(["sacctmgr", "-n", "-P", "show", "cluster", "format=cluster"], layout).stdout
    if layout.cluster_name not in out.split():
        log(f"adding cluster {layout.cluster_name} to accounting")
        sh(["sacctmgr", "-i", "add", "cluster", layout.cluster_name], layout)


def start_slurmctld(layout):
    if running(layout, "slurmctld"):
        return
    require_free(layout, layout.ports.ctld, "slurmctld")
    log(f"starting slurmctld on 127.0.0.1:{layout.ports.ctld}")
    sh(["slurmctld"], layout)
    wait_for_daemons(layout, ["slurmctld"], 60, "slurmctld (scontrol ping)",
                     lambda: "UP" in sh(["scontrol", "ping"], layout, check=False).stdout)


def nodes_registered(layout):
    out = sh(["sinfo", "-h", "-N", "-o", "%N %T"], layout).stdout
    states = {}
    for line in out.splitlines():
        node, state = line.split()
        states[node] = state
    good = ("idle", "mixed", "allocated", "reserved", "completing")
    return set(states) == set(NODES) and all(s.rstrip("+") in good for s in states.values())


def start_slurmds(layout):
    started = []
    for node, port in zip(NODES, layout.ports.slurmd):
        if running(layout, f"slurmd.{node}"):
            continue
        require_free(layout, port, f"slurmd {node}")
        log(f"starting slurmd -N {node} on 127.0.0.1:{port}")
        started.append(daemon(["slurmd", "-N", node], layout))
    for proc in started:  # each forks into the background and exits
        if proc.wait(timeout=60):
            raise ClusterError(f"slurmd failed to start (see {layout.path('log')})")
    wait_for_daemons(layout, [f"slurmd.{n}" for n in NODES], 90, "nodes n1-n4 to register",
                     lambda: nodes_registered(layout))


def names(layout, *argv):
    return sh(argv, layout).stdout.split()


def ensure_accounting(layout):
    sacctmgr = ["sacctmgr", "-n", "-P", "show"]
    accounts = names(layout, *sacctmgr, "account", "format=account")
    if "science" not in accounts:
        log("adding account science")
        sh(["sacctmgr", "-i", "add", "account", "science", "Description=Science",
            "Organization=lab"], layout)
    if "physics" not in accounts:
        log("adding account physics (child of science)")
        sh(["sacctmgr", "-i", "add", "account", "physics", "parent=science",
            "Description=Physics", "Organization=lab"], layout)
    if "high" not in names(layout, *sacctmgr, "qos", "format=name"):
        sh(["sacctmgr", "-i", "add", "qos", "high", "Priority=100"], layout)
    users = names(layout, *sacctmgr, "user", "format=user")
    if "alice" not in users:
        log("adding user alice (science, physics)")
        sh(["sacctmgr", "-i", "add", "user", "alice", "Account=science,physics",
            "DefaultAccount=science"], layout)
        sh(["sacctmgr", "-i", "modify", "user", "where", "name=alice", "set", "QOS=normal,high"],
           layout)
    if "bob" not in users:
        log("adding user bob (physics)")
        sh(["sacctmgr", "-i", "add", "user", "bob", "Account=physics", "DefaultAccount=physics"],
           layout)
    # a reservation (and the licenses in slurm.conf) make /reservations and /licenses non-empty
    if not ok(["scontrol", "show", "reservation", "maint"], layout):
        sh(["scontrol", "create", "reservation", "ReservationName=maint",
            "StartTime=now+30days", "Duration=60", "Nodes=n4", "Users=root", "Flags=MAINT"],
           layout)


def child_pids(ppid):
    result = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # the comm field may contain spaces: the PPID is the second field after its ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == ppid:
            result.append(int(entry))
    return result


def comm_of(pid):
    try:
        with open(f"/proc/{pid}/comm", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return None


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            resp.read()
        return True
    except urllib.error.HTTPError:
        return True  # it answered
    except OSError:
        return False


def start_restd(layout):
    if running(layout, "slurmrestd"):
        return
    port = layout.ports.restd
    require_free(layout, port, "slurmrestd")
    log(f"starting slurmrestd as {layout.restd_user} on 127.0.0.1:{port} and [::1]:{port} "
        "(rest_auth/jwt)")
    # SLURM_JWT=daemon: an invalid token that switches slurmrestd's own client auth to
    # auth/jwt, so every request is made with the token the HTTP client supplied.
    # It refuses to run as root or the SlurmUser.
    logfile = open(layout.path("restd", "slurmrestd.log"), "ab")
    try:
        proc = daemon(["runuser", "-u", layout.restd_user, "--", "env", "-i",
                       "PATH=/usr/sbin:/usr/bin:/bin", f"SLURM_CONF={layout.slurm_conf}",
                       "SLURM_JWT=daemon", "slurmrestd", "-a", "rest_auth/jwt",
                       f"127.0.0.1:{port}", f"[::1]:{port}"], layout, stdout=logfile)
    finally:
        logfile.close()
    # runuser forks slurmrestd as its child: that child is the daemon to record.
    pid = None

    def found():
        nonlocal pid
        if comm_of(proc.pid) == "slurmrestd":
            pid = proc.pid
        else:
            pid = next((c for c in child_pids(proc.pid) if comm_of(c) == "slurmrestd"), None)
        return pid is not None

    wait_for(10, f"slurmrestd to start (see {layout.path('restd', 'slurmrestd.log')})", found)
    with open(layout.pid_file("slurmrestd"), "w") as f:
        f.write(f"{pid}\n")
    wait_for_daemons(layout, ["slurmrestd"], 30, "slurmrestd listening",
                     lambda: http_ok(f"{layout.restd_url}/openapi/v3"))


# ---------------------------------------------------------------- verify
def verify(layout):
    from slurmrest.testing.cluster import Cluster

    cluster = Cluster(layout.dir)
    log("verify: sbatch as alice (waits for completion)")
    proc = cluster.run(["sbatch", "--parsable", "--wait", "-J", "verify", "-o",
                        layout.path("jobs", "verify-%j.out"), "--wrap",
                        'echo "hello from $(id -un) on $SLURMD_NODENAME"'], user="alice")
    job_id = int(proc.stdout.strip().split(";")[0])
    with open(layout.path("jobs", f"verify-{job_id}.out")) as f:
        log(f"job {job_id} finished: {f.read().strip()}")
    state = cluster.accounting_state(job_id, timeout=30)
    if state != "COMPLETED":
        raise ClusterError(f"sacct shows job {job_id} as {state!r}, expected COMPLETED")
    log(f"verify: sacct shows job {job_id} COMPLETED")
    token = cluster.token("alice", lifespan=300)
    # The token alone (auth/jwt as nobody, no munge identity of alice) must be accepted.
    jwt = {"SLURM_JWT": token}
    if cluster.run(["squeue", "-u", "alice"], user="nobody", env=jwt, check=False).returncode:
        raise ClusterError("JWT authentication to slurmctld failed")
    if cluster.run(["sacctmgr", "-n", "show", "user", "alice"], user="nobody", env=jwt,
                   check=False).returncode:
        raise ClusterError("JWT authentication to slurmdbd failed")
    log("verify: scontrol token works (JWT accepted by slurmctld and slurmdbd)")
    if cluster.restd_url:
        req = urllib.request.Request(f"{cluster.restd_url}/slurm/v0.0.38/ping", headers={
            "X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": token})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                resp.read()
        except OSError as e:
            raise ClusterError(f"slurmrestd ping with a JWT failed: {e.__class__.__name__}") from None
        log("verify: slurmrestd answers /slurm/v0.0.38/ping with alice's JWT")


# ---------------------------------------------------------------- commands
def resolve_layout(directory, port_base, cluster_name, restd):
    """The layout to bring up: an existing cluster keeps its ports unless told otherwise."""
    directory = os.path.abspath(directory)
    existing = None
    if os.path.exists(os.path.join(directory, "etc", "slurm.conf")):
        try:
            existing = Layout.load(directory)
        except (OSError, ValueError, KeyError):
            existing = None
    if port_base == "auto":
        # An existing cluster keeps its ports while any of its own daemons still runs (moving
        # would strand them on the old ports), or when those ports are free again.
        if existing is not None and (
            any(pid_alive(existing.pid_file(stem), comm) for stem, comm in DAEMONS)
            or all(port_is_free(p) for p in existing.ports.all())
        ):
            ports = existing.ports
        else:
            ports = Ports.from_base(free_port_base())
    elif port_base is not None:
        ports = Ports.from_base(int(port_base))
    elif existing is not None:
        ports = existing.ports
    else:
        ports = Ports.from_base(DEFAULT_PORT_BASE)
    name = cluster_name or (existing.cluster_name if existing else DEFAULT_CLUSTER_NAME)
    return Layout(dir=directory, ports=ports, cluster_name=name, restd=restd)


LOCK_PATH = "/run/lock/slurmrest-testcluster.lock"


@contextlib.contextmanager
def host_lock(timeout=600):
    """One ``up``/``down`` at a time on this host: apt, user creation and the choice of free
    ports ("auto") are not safe to run side by side."""
    path = LOCK_PATH if os.path.isdir(os.path.dirname(LOCK_PATH)) else "/tmp/slurmrest-testcluster.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    log(f"waiting for another cluster command to finish ({path})")
                    waited = True
                if time.monotonic() >= deadline:
                    raise ClusterError(f"another cluster command held {path} for {timeout}s")
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # releases the lock


def cmd_up(args):
    t0 = time.monotonic()
    if os.geteuid() != 0:
        raise ClusterError("run as root")
    with host_lock():
        return _up(args, t0)


def _up(args, t0):
    install_packages()
    layout = resolve_layout(args.dir, args.port_base, args.cluster_name, args.restd)
    if not layout.restd and running(layout, "slurmrestd"):
        layout.restd = True  # it runs already: keep advertising it
    ensure_users(layout.restd_user)
    make_layout(layout)
    write_configs(layout)
    write_state(layout, restd_running=False)
    start_munge(layout)
    start_mariadb(layout)
    start_slurmdbd(layout)
    ensure_cluster_in_db(layout)
    start_slurmctld(layout)
    start_slurmds(layout)
    ensure_accounting(layout)
    if layout.restd:
        start_restd(layout)
    write_state(layout, restd_running=layout.restd)
    log(f"cluster up in {time.monotonic() - t0:.1f}s (before verification), "
        f"ports {layout.ports.as_dict()}")
    if args.verify:
        verify(layout)
    log(f"done in {time.monotonic() - t0:.1f}s.  Use it with:  . {layout.path('env.sh')}")
    print_pids(layout)


def belongs_to(pid, directory):
    """True when the process names ``directory`` in its command line or environment:
    a process this harness started for that cluster, not a recycled PID."""
    needle = directory.encode() + b"/"
    for part in ("cmdline", "environ"):
        try:
            with open(f"/proc/{pid}/{part}", "rb") as f:
                if needle in f.read():
                    return True
        except OSError:
            pass
    return False


def alive(pid):
    """True while the process exists and is not a zombie (an exited child not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_group(layout, stems):
    """SIGTERM every running daemon of ``stems`` at once, then wait; SIGKILL after 30 s."""
    victims = []
    for stem in stems:
        pid = running(layout, stem)
        if pid is None:
            continue
        if not belongs_to(pid, layout.dir):
            log(f"not stopping {stem} (pid {pid}): it does not belong to {layout.dir}")
            continue
        log(f"stopping {stem} (pid {pid})")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        victims.append((stem, pid))
    deadline = time.monotonic() + STOP_GRACE
    for stem, pid in victims:
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid):
            log(f"{stem} (pid {pid}) ignored SIGTERM for {STOP_GRACE:.0f}s; sending SIGKILL")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for stem in stems:
        path = layout.pid_file(stem)
        if os.path.islink(path) or os.path.exists(path):
            pid = running(layout, stem)
            if pid is None or not alive(pid):
                os.unlink(path)


def cmd_down(args):
    layout = Layout.load(args.dir)
    with host_lock():
        return _down(layout)


def _down(layout):
    t0 = time.monotonic()
    # slurmctld and the slurmds may stop together; slurmdbd after slurmctld (which sends it
    # its last records); MariaDB and munge last (slurmdbd needs both until it exits).
    stop_group(layout, ["slurmrestd", "slurmctld", *(f"slurmd.{n}" for n in NODES)])
    stop_group(layout, ["slurmdbd"])
    stop_group(layout, ["mariadbd", "munged"])
    if os.path.exists(layout.path("env.sh")):
        write_file(layout.path("env.sh"), configs.env_sh(layout, restd_running=False), 0o644)
    log(f"stopped in {time.monotonic() - t0:.1f}s (state kept in {layout.dir}; "
        f"rm -rf it for a fresh start)")


def print_pids(layout):
    for stem, comm in DAEMONS:
        pid = pid_alive(layout.pid_file(stem), comm)
        state = f"running  pid {pid}" if pid else "stopped"
        print(f"  {stem:<12} {state}")


def cmd_status(args):
    layout = Layout.load(args.dir)
    print(f"daemons under {layout.dir} (ports {layout.ports.as_dict()}):")
    print_pids(layout)
    if running(layout, "slurmctld"):
        for argv in (["scontrol", "ping"], ["sinfo"], ["squeue"]):
            print()
            out = sh(argv, layout, check=False).stdout.splitlines()
            print("\n".join(out[:20]))
    if running(layout, "slurmdbd"):
        print()
        print(sh(["sacctmgr", "-n", "show", "assoc", "format=cluster,account,user,qos", "tree"],
                 layout, check=False).stdout)
    # 0 when the cluster runs (slurmrestd is optional), 3 otherwise (as "systemctl status")
    needed = [stem for stem, _ in DAEMONS if stem != "slurmrestd"]
    return 0 if all(running(layout, stem) for stem in needed) else 3


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m slurmrest.testing.cluster",
        description="A real Slurm 22.05 test cluster on this Debian 12 host, loopback only.")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("dir", help="the cluster directory (configs, keys, state, logs)")
    parser.add_argument("--port-base", default=None,
                        help=f"first port (default {DEFAULT_PORT_BASE}, or the cluster's own "
                             "when DIR has one; 'auto': the first base whose ports are free)")
    parser.add_argument("--restd", action="store_true",
                        help="also start the reference slurmrestd (JWT) on the restd port")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip the end-to-end checks after bring-up")
    parser.add_argument("--cluster-name", default=None,
                        help=f"ClusterName (default {DEFAULT_CLUSTER_NAME})")
    args = parser.parse_args(argv)
    if args.port_base not in (None, "auto"):
        try:
            Ports.from_base(int(args.port_base))
        except ValueError as e:
            parser.error(f"--port-base: {e}")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    commands = {"up": cmd_up, "down": cmd_down, "status": cmd_status}
    try:
        status = commands[args.command](args)
    except ClusterError as e:
        log(f"ERROR: {e}")
        return 1
    except subprocess.CalledProcessError as e:
        log(f"ERROR: {' '.join(map(str, e.cmd))} exited {e.returncode}: {(e.stderr or '').strip()}")
        return 1
    except FileNotFoundError as e:
        log(f"ERROR: {e}")
        return 1
    return status or 0
