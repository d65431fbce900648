"""Raw-capture hook for the e2e tests: append stdin verbatim, as one line, to the file named in argv[1].

Claude Code sends compact JSON (no raw newlines), so the payload is kept byte for byte; one
``O_APPEND`` write per payload keeps concurrent hook processes from interleaving. Prints nothing.
"""

import os
import sys

data = sys.stdin.buffer.read().rstrip(b"\r\n").replace(b"\n", b" ")
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
try:
    os.write(fd, data + b"\n")
finally:
    os.close(fd)
