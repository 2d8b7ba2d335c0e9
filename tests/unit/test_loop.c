// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests of the event loop (user/loop.c). */
#include <errno.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "iam_test.h"
#include "log.h"
#include "loop.h"

static int fired[8];
static int order[8], norder;

static void timer_cb(struct iam_loop *loop, struct iam_timer *t, void *arg)
{
	int i = (int)(intptr_t)arg;

	fired[i]++;
	order[norder++] = i;
}

TEST(timers_fire_in_due_order)
{
	struct iam_loop *loop;
	struct iam_timer t[4];
	uint64_t start;

	REQUIRE_EQ(iam_loop_create(&loop), 0);
	for (int i = 0; i < 4; i++)
		iam_timer_init(&t[i], timer_cb, (void *)(intptr_t)i);
	iam_timer_arm(loop, &t[0], 40);
	iam_timer_arm(loop, &t[1], 10);
	iam_timer_arm(loop, &t[2], 30);
	iam_timer_arm(loop, &t[3], 20);
	iam_timer_cancel(loop, &t[2]);
	CHECK(!iam_timer_armed(&t[2]));
	start = iam_now_ms();
	while (norder < 3 && iam_now_ms() - start < 1000)
		iam_loop_run_once(loop, 100);
	CHECK_EQ(norder, 3);
	CHECK_EQ(order[0], 1);
	CHECK_EQ(order[1], 3);
	CHECK_EQ(order[2], 0);
	CHECK_EQ(fired[2], 0);
	CHECK(iam_now_ms() - start >= 40);
	iam_loop_destroy(loop);
}

TEST(timer_rearm_moves_deadline)
{
	struct iam_loop *loop;
	struct iam_timer t;

	REQUIRE_EQ(iam_loop_create(&loop), 0);
	iam_timer_init(&t, timer_cb, (void *)(intptr_t)5);
	iam_timer_arm(loop, &t, 5);
	iam_timer_arm(loop, &t, 200);
	iam_loop_run_once(loop, 50);
	CHECK_EQ(fired[5], 0);
	CHECK(iam_timer_armed(&t));
	iam_loop_destroy(loop);
}

static int reads;
static void pipe_cb(struct iam_loop *loop, int fd, uint32_t ev, void *arg)
{
	char c;
	int *other = arg;

	if (read(fd, &c, 1) == 1)
		reads++;
	/* Deleting the other descriptor from inside a callback must stop
	 * its already-fetched event from being delivered. */
	if (other && *other >= 0) {
		iam_loop_del(loop, *other);
		*other = -1;
	}
}

TEST(fd_events_and_delete_inside_callback)
{
	struct iam_loop *loop;
	int a[2], b[2], other;

	REQUIRE_EQ(iam_loop_create(&loop), 0);
	REQUIRE_EQ(pipe(a), 0);
	REQUIRE_EQ(pipe(b), 0);
	other = b[0];
	int other2 = a[0];
	REQUIRE_EQ(iam_loop_add(loop, a[0], EPOLLIN, pipe_cb, &other), 0);
	REQUIRE_EQ(iam_loop_add(loop, b[0], EPOLLIN, pipe_cb, &other2), 0);
	CHECK_EQ(iam_loop_add(loop, a[0], EPOLLIN, pipe_cb, NULL), -EEXIST);
	CHECK_EQ(write(a[1], "x", 1), 1);
	CHECK_EQ(write(b[1], "y", 1), 1);
	iam_loop_run_once(loop, 100);
	/* Whichever ran first removed the other. */
	CHECK_EQ(reads, 1);
	iam_loop_destroy(loop);
}

static struct iam_loop *post_loop;
static int post_runs;
static void post_fn(struct iam_loop *loop, struct iam_loop_work *w)
{
	if (++post_runs == 100)
		iam_loop_stop(loop);
}

static void *poster(void *arg)
{
	struct iam_loop_work *w = arg;

	for (int i = 0; i < 50; i++) {
		w[i].fn = post_fn;
		iam_loop_post(post_loop, &w[i]);
	}
	return NULL;
}

TEST(post_from_threads)
{
	static struct iam_loop_work w[100];
	pthread_t th[2];

	REQUIRE_EQ(iam_loop_create(&post_loop), 0);
	pthread_create(&th[0], NULL, poster, &w[0]);
	pthread_create(&th[1], NULL, poster, &w[50]);
	CHECK_EQ(iam_loop_run(post_loop), 0);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	CHECK_EQ(post_runs, 100);
	iam_loop_destroy(post_loop);
}

static int readable;

static void readable_cb(struct iam_loop *loop, int fd, uint32_t ev, void *arg)
{
	char b;

	readable++;
	if (read(fd, &b, 1) < 0)
		return;
}

/* A paused listener is not reported, however readable, until its pause
 * ends; then it is again. */
TEST(listener_pause_mutes_then_resumes)
{
	struct iam_listener l;
	struct iam_loop *loop;
	uint64_t start;
	int p[2];

	REQUIRE_EQ(iam_loop_create(&loop), 0);
	REQUIRE_EQ(pipe(p), 0);
	REQUIRE_EQ(iam_loop_add(loop, p[0], EPOLLIN, readable_cb, NULL), 0);
	iam_listener_init(&l, p[0]);
	iam_listener_pause(loop, &l, 100);
	CHECK_EQ(write(p[1], "x", 1), 1);
	start = iam_now_ms();
	while (iam_now_ms() - start < 60)
		iam_loop_run_once(loop, 10);
	CHECK_EQ(readable, 0);
	while (!readable && iam_now_ms() - start < 1000)
		iam_loop_run_once(loop, 50);
	CHECK_EQ(readable, 1);
	CHECK(iam_now_ms() - start >= 100);
	iam_listener_fini(loop, &l);
	iam_loop_del(loop, p[0]);
	close(p[0]);
	close(p[1]);
	iam_loop_destroy(loop);
}

TEST(accept_errors_that_call_for_a_pause)
{
	CHECK(iam_accept_error_is_hard(EMFILE));
	CHECK(iam_accept_error_is_hard(ENFILE));
	CHECK(iam_accept_error_is_hard(ENOMEM));
	CHECK(!iam_accept_error_is_hard(EAGAIN));
	CHECK(!iam_accept_error_is_hard(EINTR));
	CHECK(!iam_accept_error_is_hard(ECONNABORTED));
}

TEST(ratelimit_says_yes_first_then_once_a_minute)
{
	struct iam_ratelimit r = { 0, 0 };

	CHECK(iam_ratelimit(&r));
	CHECK(!iam_ratelimit(&r));
	CHECK(!iam_ratelimit(&r));
	CHECK_EQ(r.count, 3);
	if (iam_now_ms() > 60000) {
		r.last_ms = iam_now_ms() - 60000;
		CHECK(iam_ratelimit(&r));
		CHECK(!iam_ratelimit(&r));
	}
	CHECK(r.count >= 3);
}
