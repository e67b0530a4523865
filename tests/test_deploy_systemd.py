"""The systemd units of etc/systemd/, for real where this machine lets us: ``systemd-analyze
verify`` of every unit (systemd's own checks, and no warning), the hardening each service
declares, and socket activation driven as systemd does it (``systemd-socket-activate`` hands
the sockets of the socket unit down as LISTEN_FDS) with the very command line of the service
unit, answering on both sockets against the real cluster; inet mode (``Accept=yes``) too."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial import unittest

from tests.test_operating_live import OperatingBase
from tests.test_server_live import free_port

UNITS = Path(__file__).resolve().parent.parent / "etc" / "systemd"
VENV = Path(sys.prefix)
INSTALLED_AT = "/opt/slurmrest"

#: What every service unit of ours must say (the issue's "hardened unit").
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
             "PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
             "RestrictSUIDSGID": "yes", "ProtectKernelTunables": "yes",
             "SystemCallArchitectures": "native", "User": "slurmrest"}


def unit_settings(path: Path) -> dict[str, list[str]]:
    """``{key: [values]}`` of a unit file (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def installed_copy(directory: str) -> Path:
    """The units as a site installs them, slurmrest's virtualenv being this one."""
    out = Path(directory) / "units"
    out.mkdir()
    for unit in UNITS.iterdir():
        (out / unit.name).write_text(unit.read_text().replace(INSTALLED_AT, str(VENV)))
    return out


class UnitFileTests(unittest.TestCase):
    def test_systemd_analyze_verify_finds_nothing(self):
        units = installed_copy(tempfile.mkdtemp(prefix="slurmrest-units-"))
        names = sorted(str(p) for p in units.iterdir())
        self.assertEqual([Path(n).name for n in names],
                         ["slurmrest-inet.socket", "slurmrest-inet@.service",
                          "slurmrest-worker@.service", "slurmrest.service",
                          "slurmrest.socket"])
        done = subprocess.run(["systemd-analyze", "verify", "--man=no", *names],
                              capture_output=True, text=True, timeout=60)
        # Unknown keys and the like are only warnings (exit 0): none is allowed either.
        self.assertEqual((done.returncode, done.stdout + done.stderr), (0, ""))

    def test_verify_would_catch_a_mistake(self):
        units = installed_copy(tempfile.mkdtemp(prefix="slurmrest-units-"))
        service = units / "slurmrest.service"
        service.write_text(service.read_text().replace("ProtectSystem=", "ProtectSystm="))
        done = subprocess.run(["systemd-analyze", "verify", "--man=no",
                               str(units / "slurmrest.socket"), str(service)],
                              capture_output=True, text=True, timeout=60)
        self.assertIn("Unknown key", done.stderr)

    def test_services_are_hardened(self):
        for name in ("slurmrest.service", "slurmrest-inet@.service"):
            found = unit_settings(UNITS / name)
            for key, wanted in HARDENING.items():
                self.assertIn(wanted, found.get(key, []), (name, key))
            self.assertTrue(any(v.startswith("@system-service")
                                for v in found["SystemCallFilter"]), name)

    def test_the_socket_and_the_service_agree(self):
        sockets = unit_settings(UNITS / "slurmrest.socket")["ListenStream"]
        command = unit_settings(UNITS / "slurmrest.service")["ExecStart"][0]
        # One systemd:...:index=N endpoint per ListenStream, in the same order.
        self.assertEqual(re.findall(r"systemd:domain=(INET6?):index=(\d)", command),
                         [("INET6" if s.startswith("[") else "INET", str(i))
                          for i, s in enumerate(sockets)])
        self.assertNotIn("Accept", unit_settings(UNITS / "slurmrest.socket"))
        self.assertEqual(unit_settings(UNITS / "slurmrest-inet.socket")["Accept"], ["yes"])


class SocketActivationTests(OperatingBase):
    timeout = 120

    def command(self, unit: str, **replace) -> list[str]:
        """The unit's ExecStart, as systemd would run it here."""
        line = unit_settings(UNITS / unit)["ExecStart"][0]
        line = line.replace(INSTALLED_AT, str(VENV)).replace("${SLURM_CONF}",
                                                             self.cluster.slurm_conf)
        for old, new in replace.items():
            line = line.replace(old, new)
        return shlex.split(line)

    def spawn(self, argv) -> subprocess.Popen:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                   stderr=open(os.path.join(self.dir, "stderr"), "ab"),
                                   env=dict(os.environ, SLURM_CONF=self.cluster.slurm_conf),
                                   start_new_session=True)

        def stop():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # ours, by its pid
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.addCleanup(stop)
        return process

    async def until_answering(self, url, process, headers=None):
        for _ in range(300):  # a bound, not a timing assertion: 30 s at most
            if process.poll() is not None:
                self.fail(f"exited {process.returncode}: "
                          f"{open(os.path.join(self.dir, 'stderr')).read()[-2000:]}")
            try:
                return await self.request("GET", url, headers)
            except Exception:
                await deferLater(reactor, 0.1, lambda: None)
        self.fail(f"{url} never answered")

    async def test_the_service_on_the_socket_units_sockets(self):
        self.assertTrue(shutil.which("systemd-socket-activate"), "scripts/setup installs systemd")
        port = free_port()
        access_log = os.path.join(self.dir, "access.log")
        listen = [a.replace(":6820", f":{port}")
                  for a in unit_settings(UNITS / "slurmrest.socket")["ListenStream"]]
        # systemd names each socket after its unit (LISTEN_FDNAMES) unless told otherwise;
        # Twisted, like sd_listen_fds_with_names, wants the names beside the descriptors.
        argv = ["systemd-socket-activate", "--fdname=" + ":".join(["slurmrest.socket"] * 2)]
        for address in listen:
            argv += ["-l", address]
        argv += self.command("slurmrest.service",
                             **{"/var/log/slurmrest/access.log": access_log})
        process = self.spawn(argv)
        for base in (f"http://127.0.0.1:{port}", f"http://[::1]:{port}"):
            response, body = await self.until_answering(base + "/healthz", process)
            self.assertEqual(response.code, 200)
            response, body = await self.request("GET", base + "/slurm/v0.0.38/ping",
                                                self.auth())
            self.assertEqual(response.code, 200, body[:300])
            self.assertEqual(json.loads(body)["pings"][0]["ping"], "UP")
            response, body = await self.request("GET", base + "/readyz")
            self.assertEqual((response.code, json.loads(body)["ready"]), (200, True))
        # One process served both sockets: the one systemd-socket-activate became. It stops
        # cleanly on SIGTERM (twistd then ends by that signal, which systemd counts as a
        # clean stop), its access log written out.
        os.kill(process.pid, signal.SIGTERM)
        self.assertEqual(process.wait(20), -signal.SIGTERM)
        with open(access_log) as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual({line["client"] for line in lines}, {"127.0.0.1", "::1"})

    async def test_inet_mode_a_process_per_connection(self):
        port = free_port()
        argv = ["systemd-socket-activate", "-l", f"127.0.0.1:{port}", "--accept", "--inetd",
                *self.command("slurmrest-inet@.service")]
        process = self.spawn(argv)
        base = f"http://127.0.0.1:{port}"
        response, body = await self.until_answering(base + "/slurm/v0.0.38/ping", process,
                                                    self.auth())
        self.assertEqual(response.code, 200, body[:300])
        self.assertEqual(json.loads(body)["pings"][0]["ping"], "UP")
