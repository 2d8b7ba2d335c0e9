build/fuzzobj/tests/fuzz/fuzz_ctrl.o: tests/fuzz/fuzz_ctrl.c \
  user/ctrl_proto.h headers/iam_proto.h

user/ctrl_proto.h:

headers/iam_proto.h:
