build/obj/tests/unit/test_fault.o: tests/unit/test_fault.c user/fault.h \
 headers/iam_maps.h headers/iam_const.h user/loop.h user/xfer/xfer.h \
 headers/iam_ipc.h tests/lib/iam_test.h user/xfer/tcp.h user/xfer/xfer.h
user/fault.h:
headers/iam_maps.h:
headers/iam_const.h:
user/loop.h:
user/xfer/xfer.h:
headers/iam_ipc.h:
tests/lib/iam_test.h:
user/xfer/tcp.h:
user/xfer/xfer.h:
