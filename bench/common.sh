# SPDX-License-Identifier: MIT
# What the bench scripts share (sourced, not run): stopping the processes a script started,
# by their ids, and a loopback port the kernel picked. Needs $py (a python3).

# stop_pid PID SIGNAL: one process this script started, by its id; waits for it.
stop_pid() {
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill "-$2" "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}

free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
