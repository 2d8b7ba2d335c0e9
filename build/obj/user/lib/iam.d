build/obj/user/lib/iam.o: user/lib/iam.c headers/iam.h \
 headers/iam_const.h user/lib/ipc.h headers/iam_ipc.h
headers/iam.h:
headers/iam_const.h:
user/lib/ipc.h:
headers/iam_ipc.h:
