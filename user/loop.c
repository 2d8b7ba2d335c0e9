// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* loop.c - epoll + timer heap + cross-thread work queue; see loop.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

struct loop_fd {
	iam_loop_fd_cb cb;
	void *arg;
	uint32_t gen; /* bumped on every add/del, matched against events */
	bool used;
};

struct iam_loop {
	int epfd;
	int wakefd; /* eventfd: posted work and stop requests */
	struct loop_fd *fds; /* indexed by descriptor number */
	int nfds;
	struct iam_timer **heap;
	int nheap, capheap;
	/* Posted work: a lock-free LIFO (Treiber stack) the loop takes whole
	 * and reverses, so posters never wait and the order is FIFO. */
	struct iam_loop_work *posted;
	volatile int stop;
};

uint64_t iam_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t iam_now_ms(void)
{
	return iam_now_ns() / 1000000ull;
}

static void listener_resume(struct iam_loop *loop, struct iam_timer *t,
			    void *arg)
{
	struct iam_listener *l = arg;

	if (l->fd >= 0)
		iam_loop_mod(loop, l->fd, EPOLLIN);
}

void iam_listener_init(struct iam_listener *l, int fd)
{
	iam_timer_init(&l->t, listener_resume, l);
	l->fd = fd;
}

void iam_listener_pause(struct iam_loop *loop, struct iam_listener *l,
			uint64_t ms)
{
	iam_loop_mod(loop, l->fd, 0);
	iam_timer_arm(loop, &l->t, ms);
}

void iam_listener_fini(struct iam_loop *loop, struct iam_listener *l)
{
	if (loop)
		iam_timer_cancel(loop, &l->t);
	l->fd = -1;
}

bool iam_accept_error_is_hard(int err)
{
	return err != EAGAIN && err != EWOULDBLOCK && err != EINTR &&
	       err != ECONNABORTED;
}

static void loop_wake_cb(struct iam_loop *loop, int fd, uint32_t events,
			 void *arg);

int iam_loop_create(struct iam_loop **out)
{
	struct iam_loop *loop;
	int err;

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->wakefd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		err = -errno;
		goto err_free;
	}
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->wakefd < 0) {
		err = -errno;
		goto err_epoll;
	}
	err = iam_loop_add(loop, loop->wakefd, EPOLLIN, loop_wake_cb, NULL);
	if (err)
		goto err_wake;
	*out = loop;
	return 0;

err_wake:
	close(loop->wakefd);
err_epoll:
	close(loop->epfd);
err_free:
	free(loop);
	return err;
}

void iam_loop_destroy(struct iam_loop *loop)
{
	if (!loop)
		return;
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop->fds);
	free(loop->heap);
	free(loop);
}

static int loop_fd_slot(struct iam_loop *loop, int fd)
{
	struct loop_fd *n;
	int cap;

	if (fd < loop->nfds)
		return 0;
	cap = loop->nfds ? loop->nfds : 64;
	while (cap <= fd)
		cap *= 2;
	n = realloc(loop->fds, (size_t)cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n + loop->nfds, 0, (size_t)(cap - loop->nfds) * sizeof(*n));
	loop->fds = n;
	loop->nfds = cap;
	return 0;
}

int iam_loop_add(struct iam_loop *loop, int fd, uint32_t events,
		 iam_loop_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events };
	struct loop_fd *s;
	int err;

	if (fd < 0 || !cb)
		return -EINVAL;
	err = loop_fd_slot(loop, fd);
	if (err)
		return err;
	s = &loop->fds[fd];
	if (s->used)
		return -EEXIST;
	s->gen++;
	ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)s->gen << 32);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	s->cb = cb;
	s->arg = arg;
	s->used = true;
	return 0;
}

int iam_loop_mod(struct iam_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if (fd < 0 || fd >= loop->nfds || !loop->fds[fd].used)
		return -ENOENT;
	ev.data.u64 = (uint64_t)(uint32_t)fd |
		      ((uint64_t)loop->fds[fd].gen << 32);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void iam_loop_del(struct iam_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nfds || !loop->fds[fd].used)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->fds[fd].used = false;
	loop->fds[fd].gen++;
}

/* ---- timers: a binary min-heap on due_ms ---------------------------------*/

static void heap_swap(struct iam_loop *loop, int a, int b)
{
	struct iam_timer *t = loop->heap[a];

	loop->heap[a] = loop->heap[b];
	loop->heap[b] = t;
	loop->heap[a]->heap_idx = a;
	loop->heap[b]->heap_idx = b;
}

static void heap_up(struct iam_loop *loop, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;

		if (loop->heap[p]->due_ms <= loop->heap[i]->due_ms)
			break;
		heap_swap(loop, p, i);
		i = p;
	}
}

static void heap_down(struct iam_loop *loop, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;

		if (l < loop->nheap &&
		    loop->heap[l]->due_ms < loop->heap[m]->due_ms)
			m = l;
		if (r < loop->nheap &&
		    loop->heap[r]->due_ms < loop->heap[m]->due_ms)
			m = r;
		if (m == i)
			return;
		heap_swap(loop, i, m);
		i = m;
	}
}

void iam_timer_init(struct iam_timer *t, iam_timer_cb cb, void *arg)
{
	t->due_ms = 0;
	t->heap_idx = -1;
	t->cb = cb;
	t->arg = arg;
}

void iam_timer_cancel(struct iam_loop *loop, struct iam_timer *t)
{
	int i = t->heap_idx;

	if (i < 0)
		return;
	loop->nheap--;
	if (i != loop->nheap) {
		loop->heap[i] = loop->heap[loop->nheap];
		loop->heap[i]->heap_idx = i;
		heap_up(loop, i);
		heap_down(loop, loop->heap[i]->heap_idx);
	}
	t->heap_idx = -1;
}

void iam_timer_arm(struct iam_loop *loop, struct iam_timer *t,
		   uint64_t delay_ms)
{
	iam_timer_cancel(loop, t);
	if (loop->nheap == loop->capheap) {
		int cap = loop->capheap ? loop->capheap * 2 : 32;
		struct iam_timer **n = realloc(loop->heap, cap * sizeof(*n));

		/* Timers are armed from callbacks that cannot fail; an
		 * allocation failure for a few pointers means the process is
		 * out of memory and cannot do its job anyway. */
		if (!n)
			abort();
		loop->heap = n;
		loop->capheap = cap;
	}
	t->due_ms = iam_now_ms() + delay_ms;
	t->heap_idx = loop->nheap;
	loop->heap[loop->nheap++] = t;
	heap_up(loop, t->heap_idx);
}

static int loop_run_timers(struct iam_loop *loop)
{
	uint64_t now = iam_now_ms();
	int n = 0;

	while (loop->nheap > 0 && loop->heap[0]->due_ms <= now) {
		struct iam_timer *t = loop->heap[0];

		iam_timer_cancel(loop, t);
		t->cb(loop, t, t->arg);
		n++;
	}
	return n;
}

static int loop_timeout(struct iam_loop *loop, int cap_ms)
{
	uint64_t now, due;
	int ms;

	if (!loop->nheap)
		return cap_ms;
	now = iam_now_ms();
	due = loop->heap[0]->due_ms;
	ms = due <= now ? 0 : (due - now > 60000 ? 60000 : (int)(due - now));
	return cap_ms >= 0 && cap_ms < ms ? cap_ms : ms;
}

/* ---- cross-thread work ---------------------------------------------------*/

void iam_loop_post(struct iam_loop *loop, struct iam_loop_work *w)
{
	uint64_t one = 1;

	struct iam_loop_work *head =
		__atomic_load_n(&loop->posted, __ATOMIC_RELAXED);

	do {
		w->next = head;
	} while (!__atomic_compare_exchange_n(&loop->posted, &head, w, true,
					      __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	if (write(loop->wakefd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, a wake-up is pending. */
	}
}

void iam_loop_stop(struct iam_loop *loop)
{
	uint64_t one = 1;

	loop->stop = 1;
	if (write(loop->wakefd, &one, sizeof(one)) < 0) {
		/* A wake-up is already pending. */
	}
}

static void loop_wake_cb(struct iam_loop *loop, int fd, uint32_t events,
			 void *arg)
{
	struct iam_loop_work *w, *fifo = NULL;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending. */
	}
	w = __atomic_exchange_n(&loop->posted, NULL, __ATOMIC_ACQUIRE);
	while (w) {
		struct iam_loop_work *next = w->next;

		w->next = fifo;
		fifo = w;
		w = next;
	}
	w = fifo;
	while (w) {
		struct iam_loop_work *next = w->next;

		w->fn(loop, w);
		w = next;
	}
}

int iam_loop_run_once(struct iam_loop *loop, int timeout_ms)
{
	struct epoll_event evs[64];
	int n, handled;

	n = epoll_wait(loop->epfd, evs, 64, loop_timeout(loop, timeout_ms));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	handled = n;
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		struct loop_fd *s;

		if (fd >= loop->nfds)
			continue;
		s = &loop->fds[fd];
		/* Deleted (or replaced) by an earlier callback of this
		 * batch: the event belongs to a registration that is gone. */
		if (!s->used || s->gen != gen)
			continue;
		s->cb(loop, fd, evs[i].events, s->arg);
	}
	return handled + loop_run_timers(loop);
}

int iam_loop_run(struct iam_loop *loop)
{
	while (!loop->stop) {
		int r = iam_loop_run_once(loop, -1);

		if (r < 0)
			return r;
	}
	loop->stop = 0;
	return 0;
}
