"""The errno table and the exceptions of slurmrest.wire.errors."""

import errno as stdlib_errno
import os
import pickle
import re

from twisted.trial import unittest

from slurmrest.wire import errors
from slurmrest.wire.errors import (
    CommunicationError, NoChange, ProtocolError, SlurmError, errname, errnumber, error_for,
    strerror)

_PROTOCOL_DOC = os.environ.get("SLURMREST_PROTOCOL_DOC",
                               "/work/shared/docs/slurm-22.05-ctld-protocol.md")


def appendix_b_rows():
    """(number, name, text or None) for each row of Appendix B of the protocol reference."""
    if not os.path.exists(_PROTOCOL_DOC):
        raise unittest.SkipTest(f"{_PROTOCOL_DOC} not available")
    with open(_PROTOCOL_DOC, encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Appendix B", 1)[1].split("## Appendix C", 1)[0]
    rows = []
    for match in re.finditer(r"^\| (\d+) \| (\w+) \| (.*) \|$", section, re.M):
        message = None if match[3].startswith("(no string") else match[3]
        rows.append((int(match[1]), match[2], message))
    return rows


class TableTests(unittest.TestCase):

    def test_every_appendix_b_row(self):
        """Each Slurm error has its name, its constant and slurm_strerror's text."""
        rows = appendix_b_rows()
        self.assertEqual(len(rows), 247)
        for number, name, text in rows:
            self.assertEqual(errname(number), name)
            self.assertEqual(errnumber(name), number)
            self.assertEqual(getattr(errors, name), number)
            if text is None:
                # No string in slurm_errtab[]: slurm_strerror falls back to strerror().
                self.assertEqual(strerror(number), os.strerror(number))
            else:
                self.assertEqual(strerror(number), text)

    def test_no_stray_entries(self):
        """The module holds Slurm's table and nothing invented."""
        names = {name for _, name, _ in appendix_b_rows()}
        constants = {name for name in dir(errors)
                     if re.fullmatch(r"E?SLURM\w*|ESCRIPT\w*|ESPANK\w*|SLURMCTLD\w*", name)}
        self.assertEqual(constants - names, {"SLURM_SUCCESS", "SLURM_ERROR"})

    def test_special_numbers(self):
        self.assertEqual(strerror(0), "No error")
        self.assertEqual(strerror(-1), "Unspecified error")
        self.assertEqual(strerror(-2), "Unknown negative error number")
        self.assertEqual(strerror(stdlib_errno.EINPROGRESS), "Operation now in progress")
        self.assertEqual(errname(0), "SLURM_SUCCESS")
        self.assertEqual(errname(-1), "SLURM_ERROR")
        self.assertEqual(errnumber("SLURM_ERROR"), -1)

    def test_system_errno(self):
        """Numbers below 1000 are the C library's."""
        self.assertEqual(strerror(stdlib_errno.EINVAL), os.strerror(stdlib_errno.EINVAL))
        self.assertEqual(errname(stdlib_errno.EINVAL), "EINVAL")
        self.assertEqual(errnumber("EINVAL"), stdlib_errno.EINVAL)

    def test_unknown_numbers(self):
        """glibc's wording for numbers nobody knows, e.g. the two Slurm codes without text."""
        self.assertEqual(strerror(4002), "Unknown error 4002")
        self.assertEqual(strerror(6003), "Unknown error 6003")
        self.assertEqual(strerror(123456), "Unknown error 123456")
        self.assertIsNone(errname(123456))
        self.assertIsNone(errname(-7))
        self.assertRaises(KeyError, errnumber, "ESLURM_NO_SUCH_THING")
        self.assertRaises(KeyError, errnumber, "errno")

    def test_common_constants(self):
        self.assertEqual(errors.SLURM_NO_CHANGE_IN_DATA, 1900)
        self.assertEqual(errors.ESLURM_INVALID_JOB_ID, 2017)
        self.assertEqual(errors.ESLURM_ALREADY_DONE, 2021)
        self.assertEqual(errors.SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR, 1800)
        self.assertEqual(errors.SLURMCTLD_COMMUNICATIONS_SEND_ERROR, 1801)
        self.assertEqual(errors.SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR, 1802)
        self.assertEqual(errors.ESLURM_PROTOCOL_INCOMPLETE_PACKET, 5003)
        self.assertEqual(errors.ESLURM_REST_EMPTY_RESULT, 9003)
        self.assertEqual(errors.ESLURM_CONTAINER_NOT_CONFIGURED, 10000)


class ExceptionTests(unittest.TestCase):

    def test_slurm_error(self):
        error = SlurmError(2017)
        self.assertEqual(error.errno, 2017)
        self.assertEqual(error.name, "ESLURM_INVALID_JOB_ID")
        self.assertEqual(error.text, "Invalid job id specified")
        self.assertIsNone(error.message)
        self.assertEqual(str(error), "Invalid job id specified")

    def test_slurm_error_with_message(self):
        error = SlurmError(2050, "Job violates accounting/QOS policy: MaxJobs")
        self.assertEqual(error.message, "Job violates accounting/QOS policy: MaxJobs")
        self.assertEqual(
            str(error),
            "Job violates accounting/QOS policy (job submit limit, user's size and/or time "
            "limits): Job violates accounting/QOS policy: MaxJobs")

    def test_message_same_as_text_not_repeated(self):
        self.assertEqual(str(SlurmError(2017, "Invalid job id specified")),
                         "Invalid job id specified")

    def test_no_change(self):
        error = NoChange()
        self.assertIsInstance(error, SlurmError)
        self.assertEqual(error.errno, 1900)
        self.assertEqual(error.name, "SLURM_NO_CHANGE_IN_DATA")
        self.assertEqual(str(error), "Data has not changed since time specified")

    def test_communication_error(self):
        error = CommunicationError(1802, "connection closed", timeout=True,
                                   address="127.0.0.1:6817")
        self.assertIsInstance(error, SlurmError)
        self.assertEqual(error.errno, 1802)
        self.assertEqual(error.name, "SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR")
        self.assertTrue(error.timeout)
        self.assertEqual(error.address, "127.0.0.1:6817")
        self.assertEqual(
            str(error), "Unable to contact slurm controller (receive failure): "
                        "127.0.0.1:6817: timed out: connection closed")

    def test_communication_error_defaults(self):
        error = CommunicationError(1800)
        self.assertFalse(error.timeout)
        self.assertIsNone(error.address)
        self.assertEqual(str(error), "Unable to contact slurm controller (connect failure)")

    def test_protocol_error(self):
        error = ProtocolError("reply of type 2004 to REQUEST_PING")
        self.assertIsInstance(error, SlurmError)
        self.assertEqual(error.errno, 1000)
        self.assertEqual(error.name, "SLURM_UNEXPECTED_MSG_ERROR")
        self.assertEqual(str(error),
                         "Unexpected message received: reply of type 2004 to REQUEST_PING")
        truncated = ProtocolError("4 bytes short", errors.ESLURM_PROTOCOL_INCOMPLETE_PACKET)
        self.assertEqual(truncated.errno, 5003)
        self.assertEqual(truncated.text, "Header lengths are longer than data received")

    def test_error_for(self):
        self.assertEqual(type(error_for(1900)), NoChange)
        for number in (1800, 1801, 1802):
            self.assertEqual(type(error_for(number)), CommunicationError)
        for number in (1000, 1008, 5003):
            self.assertEqual(type(error_for(number)), ProtocolError)
        error = error_for(2017, "detail")
        self.assertEqual(type(error), SlurmError)
        self.assertEqual((error.errno, error.message), (2017, "detail"))
        self.assertEqual(error_for(1000, "garbage").message, "garbage")
        self.assertEqual(error_for(22).text, os.strerror(22))

    def test_pickle_round_trip(self):
        """Errors survive pickling (e.g. through a process pool) with all their attributes."""
        for error in (SlurmError(2017, "m"), NoChange(), ProtocolError("x", 5003),
                      CommunicationError(1801, "y", timeout=True, address="[::1]:6817")):
            copy = pickle.loads(pickle.dumps(error))
            self.assertEqual(type(copy), type(error))
            self.assertEqual(vars(copy), vars(error))
            self.assertEqual(str(copy), str(error))


class LibslurmCrossCheckTests(unittest.TestCase):
    """strerror() against the installed Slurm 22.05's own slurm_strerror (test support only:
    slurmrest never loads libslurm)."""

    def test_slurm_strerror(self):
        import ctypes
        path = os.environ.get("SLURMREST_LIBSLURM",
                              "/usr/lib/x86_64-linux-gnu/slurm-wlm/libslurmfull.so")
        if not os.path.exists(path):
            raise unittest.SkipTest(f"{path} not installed")
        lib = ctypes.CDLL(path)
        lib.slurm_api_version.restype = ctypes.c_long
        if lib.slurm_api_version() >> 16 != 38:
            raise unittest.SkipTest("installed libslurm is not Slurm 22.05 (API 38)")
        slurm_strerror = lib.slurm_strerror
        slurm_strerror.restype = ctypes.c_char_p
        slurm_strerror.argtypes = [ctypes.c_int]
        for number in [*range(-3, 12000), 2 ** 31 - 1, -2 ** 31]:
            self.assertEqual(slurm_strerror(number).decode(), strerror(number), number)
