// SPDX-License-Identifier: MIT
// The grain's seccomp policy: an allow-list with argument checks, compiled to BPF once.
#pragma once
#include <stddef.h>

#include <linux/filter.h>

// The compiled policy, ready for prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog) in a
// process that has set no_new_privs. Built on the first call (libseccomp) and kept for the
// life of the process, so a sandbox child only installs it and never allocates. NULL with a
// message in err if libseccomp failed.
const struct sock_fprog *seccomp_filter_grain(char *err, size_t errsz);

// How many syscalls the policy allows (unconditionally or with argument checks) on this
// architecture, for reports; valid after a successful seccomp_filter_grain().
size_t seccomp_filter_allowed(void);
