build/obj/user/lib/ipc.o: user/lib/ipc.c headers/iam_const.h \
 user/lib/ipc.h headers/iam_ipc.h
headers/iam_const.h:
user/lib/ipc.h:
headers/iam_ipc.h:
