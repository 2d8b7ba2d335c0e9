build/obj/tests/unit/test_loop.o: tests/unit/test_loop.c \
 tests/lib/iam_test.h user/loop.h
tests/lib/iam_test.h:
user/loop.h:
