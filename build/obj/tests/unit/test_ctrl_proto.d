build/obj/tests/unit/test_ctrl_proto.o: tests/unit/test_ctrl_proto.c \
 user/ctrl_proto.h headers/iam_proto.h headers/iam_const.h \
 tests/lib/iam_test.h
user/ctrl_proto.h:
headers/iam_proto.h:
headers/iam_const.h:
tests/lib/iam_test.h:
