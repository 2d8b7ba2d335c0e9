build/obj/user/fault.o: user/fault.c user/fault.h headers/iam_maps.h \
 headers/iam_const.h user/loop.h user/xfer/xfer.h headers/iam_ipc.h \
 user/log.h
user/fault.h:
headers/iam_maps.h:
headers/iam_const.h:
user/loop.h:
user/xfer/xfer.h:
headers/iam_ipc.h:
user/log.h:
