build/obj/tests/unit/test_xfer_tcp.o: tests/unit/test_xfer_tcp.c \
 headers/iam_proto.h tests/lib/iam_test.h user/xfer/tcp.h \
 user/xfer/xfer.h
headers/iam_proto.h:
tests/lib/iam_test.h:
user/xfer/tcp.h:
user/xfer/xfer.h:
