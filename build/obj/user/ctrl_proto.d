build/obj/user/ctrl_proto.o: user/ctrl_proto.c user/ctrl_proto.h \
 headers/iam_proto.h headers/iam_const.h user/wire.h
user/ctrl_proto.h:
headers/iam_proto.h:
headers/iam_const.h:
user/wire.h:
