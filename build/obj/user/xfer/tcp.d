build/obj/user/xfer/tcp.o: user/xfer/tcp.c headers/iam_proto.h \
 user/xfer/tcp.h user/xfer/xfer.h
headers/iam_proto.h:
user/xfer/tcp.h:
user/xfer/xfer.h:
