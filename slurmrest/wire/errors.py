"""Slurm's error numbers and the exceptions the wire room raises.

Numbers and names are ``slurm_err_t`` (``slurm/slurm_errno.h``) of Slurm 22.05; texts are
``slurm_errtab[]`` (``src/common/slurm_errno.c``), both at tag slurm-22-05-8-1, taken from
Appendix B of ``docs/slurm-22.05-ctld-protocol.md`` by a throw-away script (and checked
against the C table: every text matches). Regenerate rather than hand-edit.

``strerror(n)`` behaves like ``slurm_strerror``: the table text, else the C library's
``strerror(n)`` for n > 0 (glibc says e.g. "Unknown error 4002"), else "Unknown negative
error number". Values below 1000 are ordinary Linux errno values (slurmctld sends ``EINVAL``
22, for example).

Errors never carry credentials: whoever raises them passes only error numbers, addresses and
texts that came back from Slurm.
"""

import errno as _errno
import os

# SLURM_SUCCESS, SLURM_ERROR are macros rather than members of slurm_err_t.
SLURM_SUCCESS = 0
SLURM_ERROR = -1

# Every member of slurm_err_t, generated.
SLURM_UNEXPECTED_MSG_ERROR = 1000
SLURM_COMMUNICATIONS_CONNECTION_ERROR = 1001
SLURM_COMMUNICATIONS_SEND_ERROR = 1002
SLURM_COMMUNICATIONS_RECEIVE_ERROR = 1003
SLURM_COMMUNICATIONS_SHUTDOWN_ERROR = 1004
SLURM_PROTOCOL_VERSION_ERROR = 1005
SLURM_PROTOCOL_IO_STREAM_VERSION_ERROR = 1006
SLURM_PROTOCOL_AUTHENTICATION_ERROR = 1007
SLURM_PROTOCOL_INSANE_MSG_LENGTH = 1008
SLURM_MPI_PLUGIN_NAME_INVALID = 1009
SLURM_MPI_PLUGIN_PRELAUNCH_SETUP_FAILED = 1010
SLURM_PLUGIN_NAME_INVALID = 1011
SLURM_UNKNOWN_FORWARD_ADDR = 1012
SLURM_COMMUNICATIONS_MISSING_SOCKET_ERROR = 1013
SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR = 1800
SLURMCTLD_COMMUNICATIONS_SEND_ERROR = 1801
SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR = 1802
SLURMCTLD_COMMUNICATIONS_SHUTDOWN_ERROR = 1803
SLURM_NO_CHANGE_IN_DATA = 1900
ESLURM_INVALID_PARTITION_NAME = 2000
ESLURM_DEFAULT_PARTITION_NOT_SET = 2001
ESLURM_ACCESS_DENIED = 2002
ESLURM_JOB_MISSING_REQUIRED_PARTITION_GROUP = 2003
ESLURM_REQUESTED_NODES_NOT_IN_PARTITION = 2004
ESLURM_TOO_MANY_REQUESTED_CPUS = 2005
ESLURM_INVALID_NODE_COUNT = 2006
ESLURM_ERROR_ON_DESC_TO_RECORD_COPY = 2007
ESLURM_JOB_MISSING_SIZE_SPECIFICATION = 2008
ESLURM_JOB_SCRIPT_MISSING = 2009
ESLURM_USER_ID_MISSING = 2010
ESLURM_DUPLICATE_JOB_ID = 2011
ESLURM_PATHNAME_TOO_LONG = 2012
ESLURM_NOT_TOP_PRIORITY = 2013
ESLURM_REQUESTED_NODE_CONFIG_UNAVAILABLE = 2014
ESLURM_REQUESTED_PART_CONFIG_UNAVAILABLE = 2015
ESLURM_NODES_BUSY = 2016
ESLURM_INVALID_JOB_ID = 2017
ESLURM_INVALID_NODE_NAME = 2018
ESLURM_WRITING_TO_FILE = 2019
ESLURM_TRANSITION_STATE_NO_UPDATE = 2020
ESLURM_ALREADY_DONE = 2021
ESLURM_INTERCONNECT_FAILURE = 2022
ESLURM_BAD_DIST = 2023
ESLURM_JOB_PENDING = 2024
ESLURM_BAD_TASK_COUNT = 2025
ESLURM_INVALID_JOB_CREDENTIAL = 2026
ESLURM_IN_STANDBY_MODE = 2027
ESLURM_INVALID_NODE_STATE = 2028
ESLURM_INVALID_FEATURE = 2029
ESLURM_INVALID_AUTHTYPE_CHANGE = 2030
ESLURM_ACTIVE_FEATURE_NOT_SUBSET = 2031
ESLURM_INVALID_SCHEDTYPE_CHANGE = 2032
ESLURM_INVALID_SELECTTYPE_CHANGE = 2033
ESLURM_INVALID_SWITCHTYPE_CHANGE = 2034
ESLURM_FRAGMENTATION = 2035
ESLURM_NOT_SUPPORTED = 2036
ESLURM_DISABLED = 2037
ESLURM_DEPENDENCY = 2038
ESLURM_BATCH_ONLY = 2039
ESLURM_TASKDIST_ARBITRARY_UNSUPPORTED = 2040
ESLURM_TASKDIST_REQUIRES_OVERCOMMIT = 2041
ESLURM_JOB_HELD = 2042
ESLURM_INVALID_CRED_TYPE_CHANGE = 2043
ESLURM_INVALID_TASK_MEMORY = 2044
ESLURM_INVALID_ACCOUNT = 2045
ESLURM_INVALID_PARENT_ACCOUNT = 2046
ESLURM_SAME_PARENT_ACCOUNT = 2047
ESLURM_INVALID_LICENSES = 2048
ESLURM_NEED_RESTART = 2049
ESLURM_ACCOUNTING_POLICY = 2050
ESLURM_INVALID_TIME_LIMIT = 2051
ESLURM_RESERVATION_ACCESS = 2052
ESLURM_RESERVATION_INVALID = 2053
ESLURM_INVALID_TIME_VALUE = 2054
ESLURM_RESERVATION_BUSY = 2055
ESLURM_RESERVATION_NOT_USABLE = 2056
ESLURM_INVALID_WCKEY = 2057
ESLURM_RESERVATION_OVERLAP = 2058
ESLURM_PORTS_BUSY = 2059
ESLURM_PORTS_INVALID = 2060
ESLURM_PROLOG_RUNNING = 2061
ESLURM_NO_STEPS = 2062
ESLURM_INVALID_BLOCK_STATE = 2063
ESLURM_INVALID_BLOCK_LAYOUT = 2064
ESLURM_INVALID_BLOCK_NAME = 2065
ESLURM_INVALID_QOS = 2066
ESLURM_QOS_PREEMPTION_LOOP = 2067
ESLURM_NODE_NOT_AVAIL = 2068
ESLURM_INVALID_CPU_COUNT = 2069
ESLURM_PARTITION_NOT_AVAIL = 2070
ESLURM_CIRCULAR_DEPENDENCY = 2071
ESLURM_INVALID_GRES = 2072
ESLURM_JOB_NOT_PENDING = 2073
ESLURM_QOS_THRES = 2074
ESLURM_PARTITION_IN_USE = 2075
ESLURM_STEP_LIMIT = 2076
ESLURM_JOB_SUSPENDED = 2077
ESLURM_CAN_NOT_START_IMMEDIATELY = 2078
ESLURM_INTERCONNECT_BUSY = 2079
ESLURM_RESERVATION_EMPTY = 2080
ESLURM_INVALID_ARRAY = 2081
ESLURM_RESERVATION_NAME_DUP = 2082
ESLURM_JOB_STARTED = 2083
ESLURM_JOB_FINISHED = 2084
ESLURM_JOB_NOT_RUNNING = 2085
ESLURM_JOB_NOT_PENDING_NOR_RUNNING = 2086
ESLURM_JOB_NOT_SUSPENDED = 2087
ESLURM_JOB_NOT_FINISHED = 2088
ESLURM_TRIGGER_DUP = 2089
ESLURM_INTERNAL = 2090
ESLURM_INVALID_BURST_BUFFER_CHANGE = 2091
ESLURM_BURST_BUFFER_PERMISSION = 2092
ESLURM_BURST_BUFFER_LIMIT = 2093
ESLURM_INVALID_BURST_BUFFER_REQUEST = 2094
ESLURM_PRIO_RESET_FAIL = 2095
ESLURM_CANNOT_MODIFY_CRON_JOB = 2096
ESLURM_INVALID_MCS_LABEL = 2099
ESLURM_BURST_BUFFER_WAIT = 2100
ESLURM_PARTITION_DOWN = 2101
ESLURM_DUPLICATE_GRES = 2102
ESLURM_JOB_SETTING_DB_INX = 2103
ESLURM_RSV_ALREADY_STARTED = 2104
ESLURM_SUBMISSIONS_DISABLED = 2105
ESLURM_NOT_HET_JOB = 2106
ESLURM_NOT_HET_JOB_LEADER = 2107
ESLURM_NOT_WHOLE_HET_JOB = 2108
ESLURM_CORE_RESERVATION_UPDATE = 2109
ESLURM_DUPLICATE_STEP_ID = 2110
ESLURM_INVALID_CORE_CNT = 2111
ESLURM_X11_NOT_AVAIL = 2112
ESLURM_GROUP_ID_MISSING = 2113
ESLURM_BATCH_CONSTRAINT = 2114
ESLURM_INVALID_TRES = 2115
ESLURM_INVALID_TRES_BILLING_WEIGHTS = 2116
ESLURM_INVALID_JOB_DEFAULTS = 2117
ESLURM_RESERVATION_MAINT = 2118
ESLURM_INVALID_GRES_TYPE = 2119
ESLURM_REBOOT_IN_PROGRESS = 2120
ESLURM_MULTI_KNL_CONSTRAINT = 2121
ESLURM_UNSUPPORTED_GRES = 2122
ESLURM_INVALID_NICE = 2123
ESLURM_INVALID_TIME_MIN_LIMIT = 2124
ESLURM_DEFER = 2125
ESLURM_CONFIGLESS_DISABLED = 2126
ESLURM_ENVIRONMENT_MISSING = 2127
ESLURM_RESERVATION_NO_SKIP = 2128
ESLURM_RESERVATION_USER_GROUP = 2129
ESLURM_PARTITION_ASSOC = 2130
ESLURM_IN_STANDBY_USE_BACKUP = 2131
ESLURM_BAD_THREAD_PER_CORE = 2132
ESLURM_INVALID_PREFER = 2133
ESLURM_INSUFFICIENT_GRES = 2134
ESPANK_ERROR = 3000
ESPANK_BAD_ARG = 3001
ESPANK_NOT_TASK = 3002
ESPANK_ENV_EXISTS = 3003
ESPANK_ENV_NOEXIST = 3004
ESPANK_NOSPACE = 3005
ESPANK_NOT_REMOTE = 3006
ESPANK_NOEXIST = 3007
ESPANK_NOT_EXECD = 3008
ESPANK_NOT_AVAIL = 3009
ESPANK_NOT_LOCAL = 3010
ESLURMD_PIPE_ERROR_ON_TASK_SPAWN = 4000
ESLURMD_KILL_TASK_FAILED = 4001
ESLURMD_KILL_JOB_ALREADY_COMPLETE = 4002
ESLURMD_INVALID_ACCT_FREQ = 4003
ESLURMD_INVALID_JOB_CREDENTIAL = 4004
ESLURMD_UID_NOT_FOUND = 4005
ESLURMD_GID_NOT_FOUND = 4006
ESLURMD_CREDENTIAL_EXPIRED = 4007
ESLURMD_CREDENTIAL_REVOKED = 4008
ESLURMD_CREDENTIAL_REPLAYED = 4009
ESLURMD_CREATE_BATCH_DIR_ERROR = 4010
ESLURMD_MODIFY_BATCH_DIR_ERROR = 4011
ESLURMD_CREATE_BATCH_SCRIPT_ERROR = 4012
ESLURMD_MODIFY_BATCH_SCRIPT_ERROR = 4013
ESLURMD_SETUP_ENVIRONMENT_ERROR = 4014
ESLURMD_SHARED_MEMORY_ERROR = 4015
ESLURMD_SET_UID_OR_GID_ERROR = 4016
ESLURMD_SET_SID_ERROR = 4017
ESLURMD_CANNOT_SPAWN_IO_THREAD = 4018
ESLURMD_FORK_FAILED = 4019
ESLURMD_EXECVE_FAILED = 4020
ESLURMD_IO_ERROR = 4021
ESLURMD_PROLOG_FAILED = 4022
ESLURMD_EPILOG_FAILED = 4023
ESLURMD_SESSION_KILLED = 4024
ESLURMD_TOOMANYSTEPS = 4025
ESLURMD_STEP_EXISTS = 4026
ESLURMD_JOB_NOTRUNNING = 4027
ESLURMD_STEP_SUSPENDED = 4028
ESLURMD_STEP_NOTSUSPENDED = 4029
ESLURMD_INVALID_SOCKET_NAME_LEN = 4030
ESLURMD_CONTAINER_RUNTIME_INVALID = 4031
ESLURMD_CPU_BIND_ERROR = 4032
ESLURMD_CPU_LAYOUT_ERROR = 4033
ESCRIPT_CHDIR_FAILED = 4100
ESCRIPT_OPEN_OUTPUT_FAILED = 4101
ESCRIPT_NON_ZERO_RETURN = 4102
SLURM_PROTOCOL_SOCKET_IMPL_ZERO_RECV_LENGTH = 5000
SLURM_PROTOCOL_SOCKET_IMPL_NEGATIVE_RECV_LENGTH = 5001
SLURM_PROTOCOL_SOCKET_IMPL_NOT_ALL_DATA_SENT = 5002
ESLURM_PROTOCOL_INCOMPLETE_PACKET = 5003
SLURM_PROTOCOL_SOCKET_IMPL_TIMEOUT = 5004
SLURM_PROTOCOL_SOCKET_ZERO_BYTES_SENT = 5005
ESLURM_AUTH_CRED_INVALID = 6000
ESLURM_AUTH_FOPEN_ERROR = 6001
ESLURM_AUTH_NET_ERROR = 6002
ESLURM_AUTH_UNABLE_TO_SIGN = 6003
ESLURM_AUTH_BADARG = 6004
ESLURM_AUTH_MEMORY = 6005
ESLURM_AUTH_INVALID = 6006
ESLURM_AUTH_UNPACK = 6007
ESLURM_AUTH_SKIP = 6008
ESLURM_DB_CONNECTION = 7000
ESLURM_JOBS_RUNNING_ON_ASSOC = 7001
ESLURM_CLUSTER_DELETED = 7002
ESLURM_ONE_CHANGE = 7003
ESLURM_BAD_NAME = 7004
ESLURM_OVER_ALLOCATE = 7005
ESLURM_RESULT_TOO_LARGE = 7006
ESLURM_DB_QUERY_TOO_WIDE = 7007
ESLURM_DB_CONNECTION_INVALID = 7008
ESLURM_NO_REMOVE_DEFAULT_ACCOUNT = 7009
ESLURM_FED_CLUSTER_MAX_CNT = 7100
ESLURM_FED_CLUSTER_MULTIPLE_ASSIGNMENT = 7101
ESLURM_INVALID_CLUSTER_FEATURE = 7102
ESLURM_JOB_NOT_FEDERATED = 7103
ESLURM_INVALID_CLUSTER_NAME = 7104
ESLURM_FED_JOB_LOCK = 7105
ESLURM_FED_NO_VALID_CLUSTERS = 7106
ESLURM_MISSING_TIME_LIMIT = 8000
ESLURM_INVALID_KNL = 8001
ESLURM_PLUGIN_INVALID = 8002
ESLURM_PLUGIN_INCOMPLETE = 8003
ESLURM_REST_INVALID_QUERY = 9000
ESLURM_REST_FAIL_PARSING = 9001
ESLURM_REST_INVALID_JOBS_DESC = 9002
ESLURM_REST_EMPTY_RESULT = 9003
ESLURM_DATA_PATH_NOT_FOUND = 9200
ESLURM_DATA_PTR_NULL = 9201
ESLURM_DATA_CONV_FAILED = 9202
ESLURM_DATA_REGEX_COMPILE = 9203
ESLURM_DATA_UNKNOWN_MIME_TYPE = 9204
ESLURM_DATA_TOO_LARGE = 9205
ESLURM_CONTAINER_NOT_CONFIGURED = 10000

# (number, name, slurm_strerror text or None where Slurm has no string).
_ERRTAB = (
    (1000, 'SLURM_UNEXPECTED_MSG_ERROR', 'Unexpected message received'),
    (1001, 'SLURM_COMMUNICATIONS_CONNECTION_ERROR', 'Communication connection failure'),
    (1002, 'SLURM_COMMUNICATIONS_SEND_ERROR', 'Message send failure'),
    (1003, 'SLURM_COMMUNICATIONS_RECEIVE_ERROR', 'Message receive failure'),
    (1004, 'SLURM_COMMUNICATIONS_SHUTDOWN_ERROR', 'Communication shutdown failure'),
    (1005, 'SLURM_PROTOCOL_VERSION_ERROR', 'Incompatible versions of client and server code'),
    (1006, 'SLURM_PROTOCOL_IO_STREAM_VERSION_ERROR', 'I/O stream version number error'),
    (1007, 'SLURM_PROTOCOL_AUTHENTICATION_ERROR', 'Protocol authentication error'),
    (1008, 'SLURM_PROTOCOL_INSANE_MSG_LENGTH', 'Insane message length'),
    (1009, 'SLURM_MPI_PLUGIN_NAME_INVALID', 'Invalid MPI plugin name'),
    (1010, 'SLURM_MPI_PLUGIN_PRELAUNCH_SETUP_FAILED', "MPI plugin's pre-launch setup failed"),
    (1011, 'SLURM_PLUGIN_NAME_INVALID', 'Plugin initialization failed'),
    (1012, 'SLURM_UNKNOWN_FORWARD_ADDR', "Can't find an address, check slurm.conf"),
    (1013, 'SLURM_COMMUNICATIONS_MISSING_SOCKET_ERROR', 'Unexpected missing socket error'),
    (1800, 'SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR', 'Unable to contact slurm controller (connect failure)'),
    (1801, 'SLURMCTLD_COMMUNICATIONS_SEND_ERROR', 'Unable to contact slurm controller (send failure)'),
    (1802, 'SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR', 'Unable to contact slurm controller (receive failure)'),
    (1803, 'SLURMCTLD_COMMUNICATIONS_SHUTDOWN_ERROR', 'Unable to contact slurm controller (shutdown failure)'),
    (1900, 'SLURM_NO_CHANGE_IN_DATA', 'Data has not changed since time specified'),
    (2000, 'ESLURM_INVALID_PARTITION_NAME', 'Invalid partition name specified'),
    (2001, 'ESLURM_DEFAULT_PARTITION_NOT_SET', 'No partition specified or system default partition'),
    (2002, 'ESLURM_ACCESS_DENIED', 'Access/permission denied'),
    (2003, 'ESLURM_JOB_MISSING_REQUIRED_PARTITION_GROUP', "User's group not permitted to use this partition"),
    (2004, 'ESLURM_REQUESTED_NODES_NOT_IN_PARTITION', 'Requested nodes not in this partition'),
    (2005, 'ESLURM_TOO_MANY_REQUESTED_CPUS', 'More processors requested than permitted'),
    (2006, 'ESLURM_INVALID_NODE_COUNT', 'Node count specification invalid'),
    (2007, 'ESLURM_ERROR_ON_DESC_TO_RECORD_COPY', 'Unable to create job record, try again'),
    (2008, 'ESLURM_JOB_MISSING_SIZE_SPECIFICATION', 'Job size specification needs to be provided'),
    (2009, 'ESLURM_JOB_SCRIPT_MISSING', 'Job script not specified'),
    (2010, 'ESLURM_USER_ID_MISSING', 'Invalid user id'),
    (2011, 'ESLURM_DUPLICATE_JOB_ID', 'Duplicate job id'),
    (2012, 'ESLURM_PATHNAME_TOO_LONG', 'Pathname of a file, directory or other parameter too long'),
    (2013, 'ESLURM_NOT_TOP_PRIORITY', 'Immediate execution impossible, insufficient priority'),
    (2014, 'ESLURM_REQUESTED_NODE_CONFIG_UNAVAILABLE', 'Requested node configuration is not available'),
    (2015, 'ESLURM_REQUESTED_PART_CONFIG_UNAVAILABLE', 'Requested partition configuration not available now'),
    (2016, 'ESLURM_NODES_BUSY', 'Requested nodes are busy'),
    (2017, 'ESLURM_INVALID_JOB_ID', 'Invalid job id specified'),
    (2018, 'ESLURM_INVALID_NODE_NAME', 'Invalid node name specified'),
    (2019, 'ESLURM_WRITING_TO_FILE', 'I/O error writing script/environment to file'),
    (2020, 'ESLURM_TRANSITION_STATE_NO_UPDATE', 'Job can not be altered now, try again later'),
    (2021, 'ESLURM_ALREADY_DONE', 'Job/step already completing or completed'),
    (2022, 'ESLURM_INTERCONNECT_FAILURE', 'Error configuring interconnect'),
    (2023, 'ESLURM_BAD_DIST', 'Task distribution specification invalid'),
    (2024, 'ESLURM_JOB_PENDING', 'Job is pending execution'),
    (2025, 'ESLURM_BAD_TASK_COUNT', 'Task count specification invalid'),
    (2026, 'ESLURM_INVALID_JOB_CREDENTIAL', 'Error generating job credential'),
    (2027, 'ESLURM_IN_STANDBY_MODE', 'Slurm backup controller in standby mode'),
    (2028, 'ESLURM_INVALID_NODE_STATE', 'Invalid node state specified'),
    (2029, 'ESLURM_INVALID_FEATURE', 'Invalid feature specification'),
    (2030, 'ESLURM_INVALID_AUTHTYPE_CHANGE', 'AuthType change requires restart of all Slurm daemons and commands to take effect'),
    (2031, 'ESLURM_ACTIVE_FEATURE_NOT_SUBSET', 'Active features not subset of available features'),
    (2032, 'ESLURM_INVALID_SCHEDTYPE_CHANGE', 'SchedulerType change requires restart of the slurmctld daemon to take effect'),
    (2033, 'ESLURM_INVALID_SELECTTYPE_CHANGE', 'SelectType change requires restart of the slurmctld daemon to take effect'),
    (2034, 'ESLURM_INVALID_SWITCHTYPE_CHANGE', 'SwitchType change requires restart of all Slurm daemons and jobs to take effect'),
    (2035, 'ESLURM_FRAGMENTATION', 'Immediate execution impossible, resources too fragmented for allocation'),
    (2036, 'ESLURM_NOT_SUPPORTED', 'Requested operation not supported on this system'),
    (2037, 'ESLURM_DISABLED', 'Requested operation is presently disabled'),
    (2038, 'ESLURM_DEPENDENCY', 'Job dependency problem'),
    (2039, 'ESLURM_BATCH_ONLY', 'Only batch jobs are accepted or processed'),
    (2040, 'ESLURM_TASKDIST_ARBITRARY_UNSUPPORTED', 'Current SwitchType does not permit arbitrary task distribution'),
    (2041, 'ESLURM_TASKDIST_REQUIRES_OVERCOMMIT', 'Requested more tasks than available processors'),
    (2042, 'ESLURM_JOB_HELD', 'Job is in held state, pending scheduler release'),
    (2043, 'ESLURM_INVALID_CRED_TYPE_CHANGE', 'CredType change requires restart of all Slurm daemons to take effect'),
    (2044, 'ESLURM_INVALID_TASK_MEMORY', 'Memory required by task is not available'),
    (2045, 'ESLURM_INVALID_ACCOUNT', 'Invalid account or account/partition combination specified'),
    (2046, 'ESLURM_INVALID_PARENT_ACCOUNT', 'Invalid parent account specified'),
    (2047, 'ESLURM_SAME_PARENT_ACCOUNT', 'Account already child of parent account specified'),
    (2048, 'ESLURM_INVALID_LICENSES', 'Invalid license specification'),
    (2049, 'ESLURM_NEED_RESTART', 'The node configuration changes that were made require restart of the slurmctld daemon to take effect'),
    (2050, 'ESLURM_ACCOUNTING_POLICY', "Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)"),
    (2051, 'ESLURM_INVALID_TIME_LIMIT', 'Requested time limit is invalid (missing or exceeds some limit)'),
    (2052, 'ESLURM_RESERVATION_ACCESS', 'Access denied to requested reservation'),
    (2053, 'ESLURM_RESERVATION_INVALID', 'Requested reservation is invalid'),
    (2054, 'ESLURM_INVALID_TIME_VALUE', 'Invalid time specified'),
    (2055, 'ESLURM_RESERVATION_BUSY', 'Requested reservation is in use'),
    (2056, 'ESLURM_RESERVATION_NOT_USABLE', 'Requested reservation not usable now'),
    (2057, 'ESLURM_INVALID_WCKEY', 'Invalid wckey specification'),
    (2058, 'ESLURM_RESERVATION_OVERLAP', 'Requested reservation overlaps with another reservation'),
    (2059, 'ESLURM_PORTS_BUSY', 'Required ports are in use'),
    (2060, 'ESLURM_PORTS_INVALID', 'Requires more ports than can be reserved'),
    (2061, 'ESLURM_PROLOG_RUNNING', 'PrologSlurmctld is still running'),
    (2062, 'ESLURM_NO_STEPS', 'Job steps can not be run on this cluster'),
    (2063, 'ESLURM_INVALID_BLOCK_STATE', 'Invalid block state specified'),
    (2064, 'ESLURM_INVALID_BLOCK_LAYOUT', 'Functionality not available with current block layout mode'),
    (2065, 'ESLURM_INVALID_BLOCK_NAME', 'Invalid block name specified'),
    (2066, 'ESLURM_INVALID_QOS', 'Invalid qos specification'),
    (2067, 'ESLURM_QOS_PREEMPTION_LOOP', 'QOS Preemption loop detected'),
    (2068, 'ESLURM_NODE_NOT_AVAIL', 'Required node not available (down, drained or reserved)'),
    (2069, 'ESLURM_INVALID_CPU_COUNT', 'CPU count specification invalid'),
    (2070, 'ESLURM_PARTITION_NOT_AVAIL', 'Required partition not available (inactive or drain)'),
    (2071, 'ESLURM_CIRCULAR_DEPENDENCY', 'Circular job dependency'),
    (2072, 'ESLURM_INVALID_GRES', 'Invalid generic resource (gres) specification'),
    (2073, 'ESLURM_JOB_NOT_PENDING', 'Job is no longer pending execution'),
    (2074, 'ESLURM_QOS_THRES', 'Requested account has breached requested QOS usage threshold'),
    (2075, 'ESLURM_PARTITION_IN_USE', 'Partition is in use'),
    (2076, 'ESLURM_STEP_LIMIT', 'Step limit reached for this job'),
    (2077, 'ESLURM_JOB_SUSPENDED', 'Job is current suspended, requested operation disabled'),
    (2078, 'ESLURM_CAN_NOT_START_IMMEDIATELY', 'Job can not start immediately'),
    (2079, 'ESLURM_INTERCONNECT_BUSY', 'Switch resources currently not available'),
    (2080, 'ESLURM_RESERVATION_EMPTY', 'Reservation request lacks users, groups or accounts'),
    (2081, 'ESLURM_INVALID_ARRAY', 'Invalid job array specification'),
    (2082, 'ESLURM_RESERVATION_NAME_DUP', 'Duplicate reservation name'),
    (2083, 'ESLURM_JOB_STARTED', 'Job has already started'),
    (2084, 'ESLURM_JOB_FINISHED', 'Job has already finished'),
    (2085, 'ESLURM_JOB_NOT_RUNNING', 'Job is not running'),
    (2086, 'ESLURM_JOB_NOT_PENDING_NOR_RUNNING', 'Job is not pending nor running'),
    (2087, 'ESLURM_JOB_NOT_SUSPENDED', 'Job is not suspended'),
    (2088, 'ESLURM_JOB_NOT_FINISHED', 'Job is not finished'),
    (2089, 'ESLURM_TRIGGER_DUP', 'Duplicate event trigger'),
    (2090, 'ESLURM_INTERNAL', 'Slurm internal error, contact system administrator'),
    (2091, 'ESLURM_INVALID_BURST_BUFFER_CHANGE', 'BurstBufferType change requires restart of slurmctld daemon to take effect'),
    (2092, 'ESLURM_BURST_BUFFER_PERMISSION', 'Burst Buffer permission denied'),
    (2093, 'ESLURM_BURST_BUFFER_LIMIT', 'Burst Buffer resource limit exceeded'),
    (2094, 'ESLURM_INVALID_BURST_BUFFER_REQUEST', 'Burst Buffer request invalid'),
    (2095, 'ESLURM_PRIO_RESET_FAIL', 'Changes to job priority are not persistent, change nice instead'),
    (2096, 'ESLURM_CANNOT_MODIFY_CRON_JOB', 'Cannot modify scrontab jobs through scontrol'),
    (2099, 'ESLURM_INVALID_MCS_LABEL', 'Invalid mcs_label specified'),
    (2100, 'ESLURM_BURST_BUFFER_WAIT', 'Waiting for burst buffer'),
    (2101, 'ESLURM_PARTITION_DOWN', 'Partition in DOWN state'),
    (2102, 'ESLURM_DUPLICATE_GRES', 'Duplicate generic resource (gres) specification'),
    (2103, 'ESLURM_JOB_SETTING_DB_INX', 'Job update not available right now, the DB index is being set, try again in a bit'),
    (2104, 'ESLURM_RSV_ALREADY_STARTED', 'Reservation already started'),
    (2105, 'ESLURM_SUBMISSIONS_DISABLED', 'System submissions disabled'),
    (2106, 'ESLURM_NOT_HET_JOB', 'Job not heterogeneous job'),
    (2107, 'ESLURM_NOT_HET_JOB_LEADER', 'Job not heterogeneous job leader'),
    (2108, 'ESLURM_NOT_WHOLE_HET_JOB', 'Operation not permitted on individual component of heterogeneous job'),
    (2109, 'ESLURM_CORE_RESERVATION_UPDATE', 'Core-based reservation can not be updated'),
    (2110, 'ESLURM_DUPLICATE_STEP_ID', 'Duplicate job step id'),
    (2111, 'ESLURM_INVALID_CORE_CNT', 'Core count for reservation node list is not consistent!'),
    (2112, 'ESLURM_X11_NOT_AVAIL', 'X11 forwarding not available'),
    (2113, 'ESLURM_GROUP_ID_MISSING', 'Invalid group id'),
    (2114, 'ESLURM_BATCH_CONSTRAINT', 'Job --batch option is invalid or not a subset of --constraints'),
    (2115, 'ESLURM_INVALID_TRES', 'Invalid Trackable RESource (TRES) specification'),
    (2116, 'ESLURM_INVALID_TRES_BILLING_WEIGHTS', 'Invalid TRESBillingWeights specification'),
    (2117, 'ESLURM_INVALID_JOB_DEFAULTS', 'Invalid JobDefaults specification'),
    (2118, 'ESLURM_RESERVATION_MAINT', 'Job can not start due to maintenance reservation.'),
    (2119, 'ESLURM_INVALID_GRES_TYPE', 'Invalid GRES specification (with and without type identification)'),
    (2120, 'ESLURM_REBOOT_IN_PROGRESS', 'Reboot already in progress'),
    (2121, 'ESLURM_MULTI_KNL_CONSTRAINT', 'Multiple KNL NUMA and/or MCDRAM constraints require use of a heterogeneous job'),
    (2122, 'ESLURM_UNSUPPORTED_GRES', 'Requested GRES option unsupported by configured SelectType plugin'),
    (2123, 'ESLURM_INVALID_NICE', 'Invalid --nice value'),
    (2124, 'ESLURM_INVALID_TIME_MIN_LIMIT', "Invalid time-min specification (exceeds job's time or other limits)"),
    (2125, 'ESLURM_DEFER', 'Immediate execution impossible. Individual job submission scheduling attempts deferred'),
    (2126, 'ESLURM_CONFIGLESS_DISABLED', 'ConfigLess mode is disabled in slurm configuration.'),
    (2127, 'ESLURM_ENVIRONMENT_MISSING', 'Environment is missing in job'),
    (2128, 'ESLURM_RESERVATION_NO_SKIP', 'Reservation given is not skipable, try deleting instead'),
    (2129, 'ESLURM_RESERVATION_USER_GROUP', "Reservations can't have users and groups specified, only one or the other"),
    (2130, 'ESLURM_PARTITION_ASSOC', 'Multiple partition job request not supported when a partition is set in the association'),
    (2131, 'ESLURM_IN_STANDBY_USE_BACKUP', 'Controller is in standby mode, try a different controller'),
    (2132, 'ESLURM_BAD_THREAD_PER_CORE', 'Cannot request more threads per core than the job allocation'),
    (2133, 'ESLURM_INVALID_PREFER', 'Invalid preferred feature specification'),
    (2134, 'ESLURM_INSUFFICIENT_GRES', 'Insufficient GRES available in allocation'),
    (3000, 'ESPANK_ERROR', 'Generic error'),
    (3001, 'ESPANK_BAD_ARG', 'Bad argument'),
    (3002, 'ESPANK_NOT_TASK', 'Not in task context'),
    (3003, 'ESPANK_ENV_EXISTS', 'Environment variable exists'),
    (3004, 'ESPANK_ENV_NOEXIST', 'No such environment variable'),
    (3005, 'ESPANK_NOSPACE', 'Buffer too small'),
    (3006, 'ESPANK_NOT_REMOTE', 'Valid only in remote context'),
    (3007, 'ESPANK_NOEXIST', 'Id/PID does not exist on this node'),
    (3008, 'ESPANK_NOT_EXECD', 'Lookup by PID requested, but no tasks running'),
    (3009, 'ESPANK_NOT_AVAIL', 'Item not available from this callback'),
    (3010, 'ESPANK_NOT_LOCAL', 'Valid only in local or allocator context'),
    (4000, 'ESLURMD_PIPE_ERROR_ON_TASK_SPAWN', 'Pipe error on task spawn'),
    (4001, 'ESLURMD_KILL_TASK_FAILED', 'Kill task failed'),
    (4002, 'ESLURMD_KILL_JOB_ALREADY_COMPLETE', None),
    (4003, 'ESLURMD_INVALID_ACCT_FREQ', 'Invalid accounting frequency requested'),
    (4004, 'ESLURMD_INVALID_JOB_CREDENTIAL', 'Invalid job credential'),
    (4005, 'ESLURMD_UID_NOT_FOUND', 'User not found on host'),
    (4006, 'ESLURMD_GID_NOT_FOUND', 'Group ID not found on host'),
    (4007, 'ESLURMD_CREDENTIAL_EXPIRED', 'Job credential expired'),
    (4008, 'ESLURMD_CREDENTIAL_REVOKED', 'Job credential revoked'),
    (4009, 'ESLURMD_CREDENTIAL_REPLAYED', 'Job credential replayed'),
    (4010, 'ESLURMD_CREATE_BATCH_DIR_ERROR', 'Slurmd could not create a batch directory or file'),
    (4011, 'ESLURMD_MODIFY_BATCH_DIR_ERROR', 'Slurmd could not chown or chmod a batch directory'),
    (4012, 'ESLURMD_CREATE_BATCH_SCRIPT_ERROR', 'Slurmd could not create a batch script'),
    (4013, 'ESLURMD_MODIFY_BATCH_SCRIPT_ERROR', 'Slurmd could not chown or chmod a batch script'),
    (4014, 'ESLURMD_SETUP_ENVIRONMENT_ERROR', 'Slurmd could not set up environment for batch job'),
    (4015, 'ESLURMD_SHARED_MEMORY_ERROR', 'Slurmd shared memory error'),
    (4016, 'ESLURMD_SET_UID_OR_GID_ERROR', 'Slurmd could not set UID or GID'),
    (4017, 'ESLURMD_SET_SID_ERROR', 'Slurmd could not set session ID'),
    (4018, 'ESLURMD_CANNOT_SPAWN_IO_THREAD', 'Slurmd could not spawn I/O thread'),
    (4019, 'ESLURMD_FORK_FAILED', 'Slurmd could not fork job'),
    (4020, 'ESLURMD_EXECVE_FAILED', 'Slurmd could not execve job'),
    (4021, 'ESLURMD_IO_ERROR', 'Slurmd could not connect IO'),
    (4022, 'ESLURMD_PROLOG_FAILED', 'Job prolog failed'),
    (4023, 'ESLURMD_EPILOG_FAILED', 'Job epilog failed'),
    (4024, 'ESLURMD_SESSION_KILLED', 'Session manager killed'),
    (4025, 'ESLURMD_TOOMANYSTEPS', 'Too many job steps on node'),
    (4026, 'ESLURMD_STEP_EXISTS', 'Job step already exists'),
    (4027, 'ESLURMD_JOB_NOTRUNNING', 'Job step not running'),
    (4028, 'ESLURMD_STEP_SUSPENDED', 'Job step is suspended'),
    (4029, 'ESLURMD_STEP_NOTSUSPENDED', 'Job step is not currently suspended'),
    (4030, 'ESLURMD_INVALID_SOCKET_NAME_LEN', 'Unix socket name exceeded maximum length'),
    (4031, 'ESLURMD_CONTAINER_RUNTIME_INVALID', 'Container runtime not configured or invalid'),
    (4032, 'ESLURMD_CPU_BIND_ERROR', 'Unable to satisfy cpu bind request'),
    (4033, 'ESLURMD_CPU_LAYOUT_ERROR', 'Unable to layout tasks on given cpus'),
    (4100, 'ESCRIPT_CHDIR_FAILED', 'unable to change directory to work directory'),
    (4101, 'ESCRIPT_OPEN_OUTPUT_FAILED', 'could not open output file'),
    (4102, 'ESCRIPT_NON_ZERO_RETURN', 'Script terminated with non-zero exit code'),
    (5000, 'SLURM_PROTOCOL_SOCKET_IMPL_ZERO_RECV_LENGTH', 'Received zero length message'),
    (5001, 'SLURM_PROTOCOL_SOCKET_IMPL_NEGATIVE_RECV_LENGTH', 'Received message length < 0'),
    (5002, 'SLURM_PROTOCOL_SOCKET_IMPL_NOT_ALL_DATA_SENT', 'Failed to send entire message'),
    (5003, 'ESLURM_PROTOCOL_INCOMPLETE_PACKET', 'Header lengths are longer than data received'),
    (5004, 'SLURM_PROTOCOL_SOCKET_IMPL_TIMEOUT', 'Socket timed out on send/recv operation'),
    (5005, 'SLURM_PROTOCOL_SOCKET_ZERO_BYTES_SENT', 'Zero Bytes were transmitted or received'),
    (6000, 'ESLURM_AUTH_CRED_INVALID', 'Invalid authentication credential'),
    (6001, 'ESLURM_AUTH_FOPEN_ERROR', 'Failed to open authentication public key'),
    (6002, 'ESLURM_AUTH_NET_ERROR', 'Failed to connect to authentication agent'),
    (6003, 'ESLURM_AUTH_UNABLE_TO_SIGN', None),
    (6004, 'ESLURM_AUTH_BADARG', 'Bad argument to plugin function'),
    (6005, 'ESLURM_AUTH_MEMORY', 'Memory management error'),
    (6006, 'ESLURM_AUTH_INVALID', 'Authentication credential invalid'),
    (6007, 'ESLURM_AUTH_UNPACK', 'Cannot unpack credential'),
    (6008, 'ESLURM_AUTH_SKIP', 'Authentication does not apply to request'),
    (7000, 'ESLURM_DB_CONNECTION', 'Unable to connect to database'),
    (7001, 'ESLURM_JOBS_RUNNING_ON_ASSOC', 'Job(s) active, cancel job(s) before remove'),
    (7002, 'ESLURM_CLUSTER_DELETED', 'Cluster deleted, commit/rollback immediately'),
    (7003, 'ESLURM_ONE_CHANGE', 'Can only change one at a time'),
    (7004, 'ESLURM_BAD_NAME', "Unacceptable name given. (No '.' in name allowed)"),
    (7005, 'ESLURM_OVER_ALLOCATE', 'You can not allocate more than 100% of a resource'),
    (7006, 'ESLURM_RESULT_TOO_LARGE', 'Query result exceeds size limit'),
    (7007, 'ESLURM_DB_QUERY_TOO_WIDE', 'Too wide of a date range in query'),
    (7008, 'ESLURM_DB_CONNECTION_INVALID', 'Database connection reference is invalid'),
    (7009, 'ESLURM_NO_REMOVE_DEFAULT_ACCOUNT', 'You can not remove the default account of a user'),
    (7100, 'ESLURM_FED_CLUSTER_MAX_CNT', 'Too many clusters in federation'),
    (7101, 'ESLURM_FED_CLUSTER_MULTIPLE_ASSIGNMENT', 'Clusters can only be assigned to one federation'),
    (7102, 'ESLURM_INVALID_CLUSTER_FEATURE', 'Invalid cluster feature specification'),
    (7103, 'ESLURM_JOB_NOT_FEDERATED', 'Not a valid federated job'),
    (7104, 'ESLURM_INVALID_CLUSTER_NAME', 'Invalid cluster name'),
    (7105, 'ESLURM_FED_JOB_LOCK', 'Job locked by another sibling'),
    (7106, 'ESLURM_FED_NO_VALID_CLUSTERS', 'No eligible clusters for federated job'),
    (8000, 'ESLURM_MISSING_TIME_LIMIT', 'Time limit specification required, but not provided'),
    (8001, 'ESLURM_INVALID_KNL', 'Invalid KNL configuration (MCDRAM or NUMA option)'),
    (8002, 'ESLURM_PLUGIN_INVALID', 'Plugin has invalid format or unable to be loaded'),
    (8003, 'ESLURM_PLUGIN_INCOMPLETE', 'Plugin missing required symbol or function'),
    (9000, 'ESLURM_REST_INVALID_QUERY', 'Query empty or not RFC7320 compliant'),
    (9001, 'ESLURM_REST_FAIL_PARSING', 'Failure during parsing'),
    (9002, 'ESLURM_REST_INVALID_JOBS_DESC', 'Jobs description entry not found, empty or not dictionary or list'),
    (9003, 'ESLURM_REST_EMPTY_RESULT', 'Nothing found with query'),
    (9200, 'ESLURM_DATA_PATH_NOT_FOUND', 'Unable to resolve path'),
    (9201, 'ESLURM_DATA_PTR_NULL', 'Data pointer is NULL'),
    (9202, 'ESLURM_DATA_CONV_FAILED', 'Unable to convert Data type'),
    (9203, 'ESLURM_DATA_REGEX_COMPILE', 'Unable to compile regex'),
    (9204, 'ESLURM_DATA_UNKNOWN_MIME_TYPE', 'MIME type is unknown to any loaded plugins'),
    (9205, 'ESLURM_DATA_TOO_LARGE', 'DATA too large to handle'),
    (10000, 'ESLURM_CONTAINER_NOT_CONFIGURED', 'Container support is not configured'),
)

_NAMES = {number: name for number, name, _ in _ERRTAB}
_NAMES[SLURM_SUCCESS] = "SLURM_SUCCESS"
_NAMES[SLURM_ERROR] = "SLURM_ERROR"

_TEXTS = {number: text for number, _, text in _ERRTAB if text is not None}
# The three entries of slurm_errtab[] that are not Slurm errors.
_TEXTS[SLURM_SUCCESS] = "No error"
_TEXTS[SLURM_ERROR] = "Unspecified error"
_TEXTS[_errno.EINPROGRESS] = "Operation now in progress"


def strerror(number: int) -> str:
    """The text ``slurm_strerror(number)`` gives."""
    text = _TEXTS.get(number)
    if text is not None:
        return text
    if number > 0:
        return os.strerror(number)
    return "Unknown negative error number"


def errname(number: int) -> str | None:
    """The symbolic name of an error number (``ESLURM_INVALID_JOB_ID``, ``EINVAL``), or None.

    Slurm's own numbers give their ``slurm_err_t`` name, 0 and -1 give ``SLURM_SUCCESS`` and
    ``SLURM_ERROR``, system errno values give the C macro name.
    """
    name = _NAMES.get(number)
    if name is None and 0 < number < 1000:
        name = _errno.errorcode.get(number)
    return name


def errnumber(name: str) -> int:
    """The number of a Slurm error name (``"ESLURM_INVALID_JOB_ID"`` -> 2017); KeyError if unknown."""
    for number, known in _NAMES.items():
        if known == name:
            return number
    value = getattr(_errno, name, None)
    if isinstance(value, int) and name.startswith("E"):
        return value
    raise KeyError(name)


class SlurmError(Exception):
    """A Slurm error number, with the text Slurm sent along with it (an RC_MSG), if any.

    ``errno``: the number; ``name``: its ``slurm_err_t`` name (None if unknown); ``text``:
    ``slurm_strerror(errno)``; ``message``: the RC_MSG text or a local detail, or None.
    """

    def __init__(self, errno: int, message: str | None = None):
        super().__init__(errno, message)
        self.errno = errno
        self.message = message

    @property
    def name(self) -> str | None:
        return errname(self.errno)

    @property
    def text(self) -> str:
        return strerror(self.errno)

    def _details(self) -> list[str]:
        return [self.message] if self.message and self.message != self.text else []

    def __str__(self) -> str:
        return ": ".join([self.text, *self._details()])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.errno}, {self.message!r})"


class NoChange(SlurmError):
    """``SLURM_NO_CHANGE_IN_DATA`` (1900): nothing changed since the ``update_time`` asked about.

    Not a failure: the API room turns it into HTTP 304 or re-uses the previous answer.
    """

    def __init__(self, errno: int = SLURM_NO_CHANGE_IN_DATA, message: str | None = None):
        super().__init__(errno, message)


class CommunicationError(SlurmError):
    """The controller could not be reached, written to, or read from.

    ``errno`` is 1800 (connect), 1801 (send) or 1802 (receive), as libslurm uses them;
    ``timeout`` is True when the failure was a timeout; ``address`` is the ``"host:port"`` that
    was tried, or None.
    """

    def __init__(self, errno: int = SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR,
                 message: str | None = None, *, timeout: bool = False,
                 address: str | None = None):
        super().__init__(errno, message)
        self.timeout = timeout
        self.address = address

    def _details(self) -> list[str]:
        details = []
        if self.address:
            details.append(self.address)
        if self.timeout:
            details.append("timed out")
        return details + super()._details()

    def __reduce__(self):
        return (_rebuild_communication_error,
                (self.errno, self.message, self.timeout, self.address))

    def __repr__(self) -> str:
        return (f"CommunicationError({self.errno}, {self.message!r}, "
                f"timeout={self.timeout!r}, address={self.address!r})")


def _rebuild_communication_error(errno, message, timeout, address):
    return CommunicationError(errno, message, timeout=timeout, address=address)


class ProtocolError(SlurmError):
    """A reply that cannot be understood: garbage, truncated, oversized, or of an unexpected type.

    ``errno`` defaults to ``SLURM_UNEXPECTED_MSG_ERROR`` (1000); use
    ``ESLURM_PROTOCOL_INCOMPLETE_PACKET`` (5003) for truncated data and
    ``SLURM_PROTOCOL_INSANE_MSG_LENGTH`` (1008) for oversized frames.
    """

    def __init__(self, message: str | None, errno: int = SLURM_UNEXPECTED_MSG_ERROR):
        super().__init__(errno, message)

    def __reduce__(self):
        return (ProtocolError, (self.message, self.errno))

    def __repr__(self) -> str:
        return f"ProtocolError({self.message!r}, {self.errno})"


# Which numbers mean "could not talk to Slurm" and "could not understand Slurm".
_COMMUNICATION_ERRORS = frozenset({
    SLURM_COMMUNICATIONS_CONNECTION_ERROR,
    SLURM_COMMUNICATIONS_SEND_ERROR,
    SLURM_COMMUNICATIONS_RECEIVE_ERROR,
    SLURM_COMMUNICATIONS_SHUTDOWN_ERROR,
    SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR,
    SLURMCTLD_COMMUNICATIONS_SEND_ERROR,
    SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR,
    SLURMCTLD_COMMUNICATIONS_SHUTDOWN_ERROR,
})
_PROTOCOL_ERRORS = frozenset({
    SLURM_UNEXPECTED_MSG_ERROR,
    SLURM_PROTOCOL_VERSION_ERROR,
    SLURM_PROTOCOL_INSANE_MSG_LENGTH,
    ESLURM_PROTOCOL_INCOMPLETE_PACKET,
})


def error_for(errno: int, message: str | None = None) -> SlurmError:
    """The exception for an error number (e.g. the ``return_code`` of an RC reply)."""
    if errno == SLURM_NO_CHANGE_IN_DATA:
        return NoChange(errno, message)
    if errno in _COMMUNICATION_ERRORS:
        return CommunicationError(errno, message)
    if errno in _PROTOCOL_ERRORS:
        return ProtocolError(message, errno)
    return SlurmError(errno, message)
