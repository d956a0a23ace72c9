// SPDX-License-Identifier: MIT
// A minimal page on port 80 while silo is down, so the box is never silent.
#pragma once

// Listens on port 80; the fd, or -1 (logged).
int status_listen(void);

// Accepts what is waiting on fd and answers each with a 503 page stating why.
void status_answer(int fd, const char *why);
