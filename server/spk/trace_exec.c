// SPDX-License-Identifier: MIT
// Finds what the kernel loads for an executable without an open(2) the trace would see:
// the ELF interpreter (PT_INTERP) or the "#!" interpreter of a script.
#include <elf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "trace_priv.h"
#include "util.h"

// The kernel reads this much of a file to pick its loader (BINPRM_BUF_SIZE).
#define EXEC_HEAD 256
// The kernel refuses program header tables over 64 KiB (ELF_MIN_ALIGN-bounded reads).
#define EXEC_MAX_PHDRS 65536

static int read_full(int fd, void *p, size_t n, off_t off)
{
	ssize_t got = pread(fd, p, n, off);
	return got == (ssize_t)n ? 0 : -1;
}

// Copies the NUL-terminated PT_INTERP string at off (size bytes, NUL included) to interp.
static enum trace_exec_kind elf_interp_at(int fd, uint64_t off, uint64_t size, char *interp,
					  size_t isize)
{
	if (size < 2 || size > isize || off > (uint64_t)INT64_MAX)
		return TRACE_EXEC_OTHER;
	if (read_full(fd, interp, (size_t)size, (off_t)off) < 0)
		return TRACE_EXEC_OTHER;
	// The kernel insists on a NUL in the last byte; embedded NULs shorten the name.
	if (interp[size - 1] != 0 || strlen(interp) == 0)
		return TRACE_EXEC_OTHER;
	return TRACE_EXEC_ELF;
}

// The ELF fields we need, read from either class (they differ only in width).
struct elf_hdr {
	uint64_t phoff;
	unsigned phnum;
	bool is64;
};

static int elf_header(const unsigned char *head, struct elf_hdr *h)
{
	if (head[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		memcpy(&eh, head, sizeof(eh));
		if (eh.e_phentsize != sizeof(Elf64_Phdr))
			return -1;
		*h = (struct elf_hdr){eh.e_phoff, eh.e_phnum, true};
	} else if (head[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;
		memcpy(&eh, head, sizeof(eh));
		if (eh.e_phentsize != sizeof(Elf32_Phdr))
			return -1;
		*h = (struct elf_hdr){eh.e_phoff, eh.e_phnum, false};
	} else {
		return -1;
	}
	size_t entsize = h->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	return h->phnum > 0 && (size_t)h->phnum * entsize <= EXEC_MAX_PHDRS ? 0 : -1;
}

// Reads program header i: its type, file offset and file size.
static int elf_phdr(int fd, const struct elf_hdr *h, unsigned i, uint32_t *type,
		    uint64_t *off, uint64_t *size)
{
	size_t entsize = h->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t at = h->phoff + (uint64_t)i * entsize;
	if (at < h->phoff || at > (uint64_t)INT64_MAX)
		return -1;
	if (h->is64) {
		Elf64_Phdr ph;
		if (read_full(fd, &ph, sizeof(ph), (off_t)at) < 0)
			return -1;
		*type = ph.p_type, *off = ph.p_offset, *size = ph.p_filesz;
	} else {
		Elf32_Phdr ph;
		if (read_full(fd, &ph, sizeof(ph), (off_t)at) < 0)
			return -1;
		*type = ph.p_type, *off = ph.p_offset, *size = ph.p_filesz;
	}
	return 0;
}

// The first PT_INTERP names the interpreter, as in the kernel's load_elf_binary().
static enum trace_exec_kind elf_scan(int fd, const unsigned char *head, char *interp,
				     size_t isize)
{
	struct elf_hdr h;
	if (elf_header(head, &h) < 0)
		return TRACE_EXEC_OTHER;
	for (unsigned i = 0; i < h.phnum; i++) {
		uint32_t type;
		uint64_t off, size;
		if (elf_phdr(fd, &h, i, &type, &off, &size) < 0)
			return TRACE_EXEC_OTHER;
		if (type == PT_INTERP)
			return elf_interp_at(fd, off, size, interp, isize);
	}
	return TRACE_EXEC_STATIC;
}

// "#!" INTERP [ARG]: the interpreter runs from the first non-blank to the next blank.
static enum trace_exec_kind script_interp(const unsigned char *head, size_t n, char *interp,
					  size_t isize)
{
	size_t i = 2;
	while (i < n && (head[i] == ' ' || head[i] == '\t'))
		i++;
	size_t start = i;
	while (i < n && head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && head[i] != 0)
		i++;
	size_t len = i - start;
	if (len == 0 || len >= isize)
		return TRACE_EXEC_OTHER;
	memcpy(interp, head + start, len);
	interp[len] = 0;
	return TRACE_EXEC_SCRIPT;
}

enum trace_exec_kind trace_exec_interp(const char *path, char *interp, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return TRACE_EXEC_UNREADABLE;
	unsigned char head[EXEC_HEAD];
	ssize_t n = pread(fd, head, sizeof(head), 0);
	if (n < 0)
		return TRACE_EXEC_UNREADABLE;
	if (n >= 2 && head[0] == '#' && head[1] == '!')
		return script_interp(head, (size_t)n, interp, size);
	if ((size_t)n < sizeof(Elf64_Ehdr) || memcmp(head, ELFMAG, SELFMAG) != 0)
		return TRACE_EXEC_OTHER;
	// Only the host's byte order: a foreign-endian binary would not run here either.
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (head[EI_DATA] != ELFDATA2LSB)
		return TRACE_EXEC_OTHER;
#else
	if (head[EI_DATA] != ELFDATA2MSB)
		return TRACE_EXEC_OTHER;
#endif
	return elf_scan(fd, head, interp, size);
}
