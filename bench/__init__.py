"""Homer RT's benchmarks: each measures Homer against a baseline taken in the same run, on the same machine.

    python -m bench chat [--quick]       # live chat against a bare python-socketio relay (bench/relay.py)
    python -m bench store [--quick]      # the embedded store at two sizes: start, search, saves, stop
    python -m bench shutdown             # SIGTERM to exit with idle Socket.IO clients

harness.py starts the server processes (pinned to core 0) and pins the load generator (core 1); load.py
holds the clients and senders; cases/ one module per benchmark; report.py prints the tables and keeps the
latest run of each benchmark in bench/RESULTS.md. Targets are reported, not asserted: the exit status is
non-zero only when the harness itself failed.
"""
