build/obj/user/xfer/tcp_server.o: user/xfer/tcp_server.c \
 headers/iam_proto.h user/log.h user/xfer/tcp.h user/xfer/xfer.h
headers/iam_proto.h:
user/log.h:
user/xfer/tcp.h:
user/xfer/xfer.h:
