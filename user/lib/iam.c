// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iam.c - libiam: applications borrow memory through the local agent.
 *
 * A region is a memfd mapped MAP_SHARED and registered with a userfaultfd
 * for MISSING and WP faults (../shared/notes/uffd-memfd.md has the measured
 * facts this follows).  Both descriptors go to the agent with SCM_RIGHTS;
 * the agent serves the faults and can evict pages by punching them out of
 * the memfd.  We keep our own copy of the userfaultfd open: if the agent
 * dies, a fault then blocks instead of silently filling zeros.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "iam.h"
#include "iam_const.h"
#include "ipc.h"

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

struct lib_region {
	struct lib_region *next;
	void *addr;
	size_t len;
	uint64_t id;
	int uffd;
};

static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lib_region *lib_regions;
static int lib_sock = -1;
static char lib_instance[IAM_INSTANCE_MAX];
static __thread char lib_errmsg[IAM_IPC_ERRMSG_MAX];

const char *iam_strerror_last(void)
{
	return lib_errmsg;
}

int iam_set_instance(const char *name)
{
	int rc = 0;

	if (!name || !*name || strchr(name, '/') ||
	    strlen(name) >= sizeof(lib_instance)) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&lib_lock);
	if (lib_sock >= 0) {
		errno = EBUSY;
		rc = -1;
	} else {
		snprintf(lib_instance, sizeof(lib_instance), "%s", name);
	}
	pthread_mutex_unlock(&lib_lock);
	return rc;
}

/*
 * fork(): the child has none of our regions (MADV_DONTFORK, see
 * iam_alloc) and must not speak for its parent on the parent's
 * connection -- an iam_free() there, from a cleanup handler say, would
 * free the parent's region under it, and a child that outlives its
 * parent would keep the parent's blocks borrowed.  So the child forgets
 * both; a later iam_alloc() there opens its own connection.  glibc makes
 * free() safe in the child of a threaded parent.
 */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_fork_prepare(void)
{
	pthread_mutex_lock(&lib_lock);
}

static void lib_fork_parent(void)
{
	pthread_mutex_unlock(&lib_lock);
}

static void lib_fork_child(void)
{
	while (lib_regions) {
		struct lib_region *r = lib_regions;

		lib_regions = r->next;
		close(r->uffd);
		free(r);
	}
	if (lib_sock >= 0)
		close(lib_sock);
	lib_sock = -1;
	pthread_mutex_unlock(&lib_lock);
}

static void lib_init(void)
{
	pthread_atfork(lib_fork_prepare, lib_fork_parent, lib_fork_child);
}

/* Under lib_lock. */
static int lib_connect(void)
{
	const char *inst = lib_instance;
	int fd;

	if (lib_sock >= 0)
		return 0;
	if (!*inst)
		inst = getenv("IAM_INSTANCE");
	if (!inst || !*inst)
		inst = IAM_INSTANCE_DEFAULT;
	fd = iam_ipc_connect(inst);
	if (fd < 0) {
		snprintf(lib_errmsg, sizeof(lib_errmsg),
			 "cannot reach the IAM agent \"%s\" (%s/%s.sock): %s",
			 inst, IAM_RUN_DIR, inst, strerror(-fd));
		return fd;
	}
	lib_sock = fd;
	return 0;
}

/*
 * A userfaultfd that also catches faults raised inside the kernel (a
 * read(2) into the region, say): plain userfaultfd() needs
 * CAP_SYS_PTRACE when vm.unprivileged_userfaultfd is 0, /dev/userfaultfd
 * needs access to that node, and as a last resort UFFD_USER_MODE_ONLY
 * works for everyone but makes such syscalls fail with EFAULT.
 */
static int lib_userfaultfd(void)
{
	int flags = O_CLOEXEC | O_NONBLOCK;
	int fd, dev;

	fd = (int)syscall(SYS_userfaultfd, flags);
	if (fd >= 0)
		return fd;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, flags);
		close(dev);
		if (fd >= 0)
			return fd;
	}
	fd = (int)syscall(SYS_userfaultfd, flags | UFFD_USER_MODE_ONLY);
	return fd >= 0 ? fd : -errno;
}

static int lib_uffd_setup(void *addr, size_t len, int *out)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		/* Ask for what the agent relies on, so an old kernel fails
		 * here with a clear error rather than at the first fault. */
		.features = UFFD_FEATURE_MISSING_SHMEM |
			    UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
			    UFFD_FEATURE_THREAD_ID,
	};
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	int fd, err;

	fd = lib_userfaultfd();
	if (fd < 0) {
		snprintf(lib_errmsg, sizeof(lib_errmsg), "userfaultfd: %s",
			 strerror(-fd));
		return fd;
	}
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		err = -errno;
		snprintf(lib_errmsg, sizeof(lib_errmsg),
			 "UFFDIO_API: this kernel lacks userfaultfd on shared "
			 "memory with write-protect (%s)",
			 strerror(errno));
		goto err_close;
	}
	if (ioctl(fd, UFFDIO_REGISTER, &reg) < 0) {
		err = -errno;
		snprintf(lib_errmsg, sizeof(lib_errmsg), "UFFDIO_REGISTER: %s",
			 strerror(errno));
		goto err_close;
	}
	*out = fd;
	return 0;
err_close:
	close(fd);
	return err;
}

void *iam_alloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct iam_ipc_alloc req = { .rights = IAM_RIGHTS_RW };
	struct iam_ipc_alloc_rep rep = { 0 };
	struct lib_region *r;
	int memfd, uffd = -1, err;
	void *addr;
	size_t len;

	lib_errmsg[0] = 0;
	pthread_once(&lib_once, lib_init);
	if (!size || size > SIZE_MAX - page) {
		errno = EINVAL;
		return NULL;
	}
	len = (size + page - 1) & ~(page - 1);
	r = calloc(1, sizeof(*r));
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	memfd = memfd_create("iam", MFD_CLOEXEC);
	if (memfd < 0) {
		err = -errno;
		goto err_free;
	}
	if (ftruncate(memfd, (off_t)len) < 0) {
		err = -errno;
		goto err_memfd;
	}
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (addr == MAP_FAILED) {
		err = -errno;
		goto err_memfd;
	}
	/* A child of fork() would get this mapping without the userfaultfd
	 * (we ask for no UFFD_FEATURE_EVENT_FORK): it would read evicted
	 * pages as zeros and its writes would escape dirty tracking, to be
	 * lost at the next eviction.  Keep the region out of children, as
	 * RDMA-registered memory is (ibv_fork_init): touching it there is a
	 * SIGSEGV, not silent corruption. */
	if (madvise(addr, len, MADV_DONTFORK) < 0) {
		err = -errno;
		snprintf(lib_errmsg, sizeof(lib_errmsg),
			 "madvise(MADV_DONTFORK): %s", strerror(errno));
		goto err_unmap;
	}
	err = lib_uffd_setup(addr, len, &uffd);
	if (err)
		goto err_unmap;

	req.addr = (uintptr_t)addr;
	req.len = len;
	pthread_mutex_lock(&lib_lock);
	err = lib_connect();
	if (!err) {
		int fds[2] = { memfd, uffd };

		err = iam_ipc_call(lib_sock, IAM_IPC_ALLOC, &req, sizeof(req),
				   fds, 2, &rep, sizeof(rep), lib_errmsg,
				   sizeof(lib_errmsg));
	}
	if (!err) {
		r->addr = addr;
		r->len = len;
		r->id = rep.region_id;
		r->uffd = uffd;
		r->next = lib_regions;
		lib_regions = r;
	}
	pthread_mutex_unlock(&lib_lock);
	if (err)
		goto err_uffd;
	/* The mapping keeps the file; the agent has its own descriptor. */
	close(memfd);
	return addr;

err_uffd:
	close(uffd);
err_unmap:
	munmap(addr, len);
err_memfd:
	close(memfd);
err_free:
	free(r);
	errno = -err;
	return NULL;
}

int iam_free(void *ptr)
{
	struct lib_region **pp, *r = NULL;
	struct iam_ipc_region req;
	int err;

	lib_errmsg[0] = 0;
	pthread_mutex_lock(&lib_lock);
	for (pp = &lib_regions; *pp; pp = &(*pp)->next) {
		if ((*pp)->addr == ptr) {
			r = *pp;
			*pp = r->next;
			break;
		}
	}
	if (!r) {
		pthread_mutex_unlock(&lib_lock);
		errno = EINVAL;
		return -1;
	}
	req.region_id = r->id;
	err = iam_ipc_call(lib_sock, IAM_IPC_FREE, &req, sizeof(req), NULL, 0,
			   NULL, 0, lib_errmsg, sizeof(lib_errmsg));
	pthread_mutex_unlock(&lib_lock);
	/* Whatever the agent said, this process is done with the region;
	 * if the agent is gone it releases everything when it sees our
	 * socket close, and the lenders reclaim after the lease. */
	munmap(r->addr, r->len);
	close(r->uffd);
	free(r);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

int iam_where(const void *addr, struct iam_where_info *info)
{
	struct iam_ipc_where req = { .addr = (uintptr_t)addr };
	struct iam_ipc_where_rep rep;
	int err;

	lib_errmsg[0] = 0;
	pthread_mutex_lock(&lib_lock);
	err = lib_sock < 0 ?
		      -EINVAL :
		      iam_ipc_call(lib_sock, IAM_IPC_WHERE, &req, sizeof(req),
				   NULL, 0, &rep, sizeof(rep), lib_errmsg,
				   sizeof(lib_errmsg));
	pthread_mutex_unlock(&lib_lock);
	if (err) {
		errno = -err;
		return -1;
	}
	memset(info, 0, sizeof(*info));
	inet_ntop(AF_INET6, rep.block, info->block, sizeof(info->block));
	inet_ntop(AF_INET6, rep.lender, info->lender, sizeof(info->lender));
	info->block_start = rep.block_vaddr;
	info->remote_addr = rep.remote_addr;
	info->alloc_id = rep.alloc_id;
	info->block_size = rep.block_size;
	info->local = rep.transport == IAM_TRANSPORT_LOCAL;
	info->transport = rep.transport;
	info->page_state = rep.page_state;
	info->rights = rep.rights;
	return 0;
}
