build/obj/tests/unit/test_parse.o: tests/unit/test_parse.c \
 tests/lib/iam_test.h user/parse.h
tests/lib/iam_test.h:
user/parse.h:
