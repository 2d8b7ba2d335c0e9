/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * loop.h - the agent's control-plane event loop: epoll for descriptors, a
 * binary heap of timers, and a queue other threads post work to.
 *
 * One thread runs a loop; every callback runs on that thread.  Only
 * iam_loop_post() and iam_loop_stop() may be called from other threads.
 * The fault and data-serving threads never wait on this loop: they post to
 * it and go on.
 */
#ifndef IAM_LOOP_H
#define IAM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct iam_loop;

typedef void (*iam_loop_fd_cb)(struct iam_loop *loop, int fd, uint32_t events,
			       void *arg);

struct iam_timer;
typedef void (*iam_timer_cb)(struct iam_loop *loop, struct iam_timer *t,
			     void *arg);

/* Embed in the owner; iam_timer_init() once, then arm/cancel freely. */
struct iam_timer {
	uint64_t due_ms; /* CLOCK_MONOTONIC ms when it fires */
	int heap_idx; /* -1 while not armed */
	iam_timer_cb cb;
	void *arg;
};

/* Work posted from another thread; the node is the caller's (no allocation
 * on the poster's side), and must stay valid until fn has run. */
struct iam_loop_work {
	struct iam_loop_work *next;
	void (*fn)(struct iam_loop *loop, struct iam_loop_work *w);
};

int iam_loop_create(struct iam_loop **out);
void iam_loop_destroy(struct iam_loop *loop);

/* events: EPOLLIN, EPOLLOUT, ... (level-triggered unless EPOLLET given). */
int iam_loop_add(struct iam_loop *loop, int fd, uint32_t events,
		 iam_loop_fd_cb cb, void *arg);
int iam_loop_mod(struct iam_loop *loop, int fd, uint32_t events);
/* Safe from inside any callback, including fd's own; no further event of
 * this registration is delivered, even one already fetched. */
void iam_loop_del(struct iam_loop *loop, int fd);

void iam_timer_init(struct iam_timer *t, iam_timer_cb cb, void *arg);
/* (Re)arm to fire once, delay_ms from now. */
void iam_timer_arm(struct iam_loop *loop, struct iam_timer *t,
		   uint64_t delay_ms);
void iam_timer_cancel(struct iam_loop *loop, struct iam_timer *t);
static inline bool iam_timer_armed(const struct iam_timer *t)
{
	return t->heap_idx >= 0;
}

/* Thread-safe; fn runs on the loop's thread. */
void iam_loop_post(struct iam_loop *loop, struct iam_loop_work *w);

/* Run until iam_loop_stop(); returns 0, or -errno if epoll failed. */
int iam_loop_run(struct iam_loop *loop);
/* Run callbacks for at most timeout_ms (tests); returns events handled. */
int iam_loop_run_once(struct iam_loop *loop, int timeout_ms);
/* Thread-safe and async-signal-safe. */
void iam_loop_stop(struct iam_loop *loop);

uint64_t iam_now_ms(void);
uint64_t iam_now_ns(void);

/*
 * A listening socket whose accept() failed for want of descriptors or
 * memory stays readable: watching it would spin.  iam_listener_pause()
 * stops watching it for ms, then watches it for EPOLLIN again.
 * iam_listener_init() before the loop may see it, iam_listener_fini()
 * when the socket goes.
 */
struct iam_listener {
	struct iam_timer t;
	int fd;
};
void iam_listener_init(struct iam_listener *l, int fd);
void iam_listener_pause(struct iam_loop *loop, struct iam_listener *l,
			uint64_t ms);
void iam_listener_fini(struct iam_loop *loop, struct iam_listener *l);
/* Does accept()'s errno call for a pause (rather than "try later")? */
bool iam_accept_error_is_hard(int err);

#endif /* IAM_LOOP_H */
