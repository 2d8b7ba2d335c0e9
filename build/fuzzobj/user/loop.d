build/fuzzobj/user/loop.o: user/loop.c user/loop.h

user/loop.h:
