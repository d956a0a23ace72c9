// SPDX-License-Identifier: MIT
// Running as the appliance: silo-init (PID 1) starts `silo serve` with SILO_INIT_FD naming
// the write end of a pipe back to it. The front says "serving" on it once it serves (the
// boot counter of an OS update is reset then), followed by " sha256 <hex>" with TLS on (the
// self-signed certificate's fingerprint, for the console's summary); the parent asks PID 1
// to power off or reboot.
#pragma once
#include <stdbool.h>

#define APPLIANCE_ENV "SILO_INIT_FD"
#define APPLIANCE_READY "serving"

// Reads and clears SILO_INIT_FD: true when it names an open pipe and PID 1 is our parent.
// Called once by `silo serve` before it forks.
bool appliance_detect(void);
// Whether appliance_detect found silo-init.
bool appliance_active(void);
// The parent does not speak on the pipe: closes its copy.
void appliance_drop_fd(void);
// The front serves: tells silo-init once (with tls_fp, the served self-signed certificate's
// SHA-256 in hex, or NULL without TLS), and closes the pipe.
void appliance_ready(const char *tls_fp);
// The parent: asks PID 1 to reboot (SIGUSR1) or power off (SIGUSR2). 0, or -1 with the
// reason in err (not the appliance, or the signal failed).
int appliance_power(bool reboot, char *err, size_t errsz);
